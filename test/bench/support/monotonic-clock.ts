/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC, as `process.hrtime` reads it):
 * one clock for every thread of a bench, where `performance.now()` counts from each thread's own
 * start. A latency timed from one thread's instant to another's reads both here.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Resolves at `atMs` on the monotonic clock (at once if it has passed). */
export function waitUntil(atMs: number): Promise<void> {
  const wait = atMs - monotonicMs();
  return wait > 0 ? new Promise((r) => setTimeout(r, wait)) : Promise.resolve();
}
