/** Counts handlers that have started and not finished, so shutdown can wait for them. */
export class InFlightTracker {
  private readonly running = new Set<Promise<unknown>>();

  track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    // Its outcome is the caller's (it awaits `work`); here only that it ended.
    const forget = () => void this.running.delete(work);
    work.then(forget, forget);
    return work;
  }

  get size(): number {
    return this.running.size;
  }

  /** Resolves when every tracked handler has finished, or after `graceMs`; returns how many were left. */
  async settle(graceMs: number): Promise<number> {
    if (this.running.size === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
    return this.running.size;
  }
}
