import type { CallbackStatsBucket } from './callbacks.types';
import type { PinSecurityBucket } from './pin-security.types';
import { alignToGrid, HOUR_MS, timeGrid } from './time-grid';

/**
 * Hourly buckets as chart series over the last `hours` hours. An hour the server did not report had no
 * attempts, so counts are 0 there; a latency without attempts is unknown, so it is null (a gap).
 */
export interface CallbackSeries {
  x: number[];
  delivered: number[];
  failed: number[];
  p95LatencyMs: (number | null)[];
  totals: { delivered: number; failed: number; retried: number };
}

export function buildCallbackSeries(
  buckets: readonly CallbackStatsBucket[],
  nowMs: number,
  hours = 24,
): CallbackSeries {
  const grid = timeGrid(nowMs, HOUR_MS, hours);
  const slots = alignToGrid(grid, buckets);
  const delivered = slots.map((b) => b?.delivered ?? 0);
  const failed = slots.map((b) => b?.failed ?? 0);
  return {
    x: grid.x,
    delivered,
    failed,
    p95LatencyMs: slots.map((b) => (b && typeof b.p95_latency_ms === 'number' ? b.p95_latency_ms : null)),
    totals: {
      delivered: sum(delivered),
      failed: sum(failed),
      retried: sum(slots.map((b) => b?.retried ?? 0)),
    },
  };
}

export interface PinSecuritySeries {
  x: number[];
  failures: number[];
  lockouts: number[];
  totals: { successes: number; failures: number; lockouts: number };
}

export function buildPinSecuritySeries(
  buckets: readonly PinSecurityBucket[],
  nowMs: number,
  hours = 24,
): PinSecuritySeries {
  const grid = timeGrid(nowMs, HOUR_MS, hours);
  const slots = alignToGrid(grid, buckets);
  const failures = slots.map((b) => b?.failures ?? 0);
  const lockouts = slots.map((b) => b?.lockouts ?? 0);
  return {
    x: grid.x,
    failures,
    lockouts,
    totals: {
      successes: sum(slots.map((b) => b?.successes ?? 0)),
      failures: sum(failures),
      lockouts: sum(lockouts),
    },
  };
}

const sum = (values: number[]): number => values.reduce((total, v) => total + v, 0);

export type RateTone = 'good' | 'warn' | 'bad' | 'neutral';

/**
 * 0..1 as "98.5%", rounded down so a rate with any failure never reads "100.0%"; "—" when there were no attempts.
 */
export function formatSuccessRate(rate: number | null | undefined): string {
  if (typeof rate !== 'number' || !Number.isFinite(rate)) return '—';
  const clamped = Math.min(1, Math.max(0, rate));
  // The epsilon keeps a rate computed as a ratio at its tenth when floating point lands a hair below it.
  const tenths = Math.floor(clamped * 1000 + 1e-6);
  return `${(tenths / 10).toFixed(1)}%`;
}

/** 99% and better is good, 95% and better needs a look, below is bad. */
export function successRateTone(rate: number | null | undefined): RateTone {
  if (typeof rate !== 'number' || !Number.isFinite(rate)) return 'neutral';
  if (rate >= 0.99) return 'good';
  if (rate >= 0.95) return 'warn';
  return 'bad';
}
