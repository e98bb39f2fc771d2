/**
 * Compartments of bounded concurrency, one per key (an account, an account and host): work in a
 * full compartment is not started, so one key's slow work cannot take every slot. Per process.
 */
export class Bulkheads {
  /** Per key, the start time (epoch ms) of each piece of work in it, oldest first. */
  private readonly inUse = new Map<string, Set<{ startedAt: number }>>();

  constructor(
    private readonly limit: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs `work` in `key`'s compartment; `{ admitted: false }` without running it when the compartment is full. */
  async run<T>(
    key: string,
    work: () => Promise<T>,
  ): Promise<{ admitted: true; value: T } | { admitted: false }> {
    let running = this.inUse.get(key);
    if ((running?.size ?? 0) >= this.limit) return { admitted: false };
    if (!running) this.inUse.set(key, (running = new Set()));
    const entry = { startedAt: this.now() };
    running.add(entry);
    try {
      return { admitted: true, value: await work() };
    } finally {
      running.delete(entry);
      if (running.size === 0 && this.inUse.get(key) === running) this.inUse.delete(key);
    }
  }

  /** Work running in `key`'s compartment now. */
  used(key: string): number {
    return this.inUse.get(key)?.size ?? 0;
  }

  /** How long the oldest work running in `key`'s compartment has been running (ms); 0 when none is. */
  oldestRunningMs(key: string): number {
    // A Set iterates in insertion order, and work is inserted as it starts: the first is the oldest.
    const oldest = this.inUse.get(key)?.values().next().value;
    return oldest ? Math.max(0, this.now() - oldest.startedAt) : 0;
  }
}
