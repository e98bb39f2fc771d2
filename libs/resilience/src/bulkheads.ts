/**
 * Compartments of bounded concurrency, one per key (an account, an account and host): work in a
 * full compartment is not started, so one key's slow work cannot take every slot. Per process.
 */
export class Bulkheads {
  private readonly inUse = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Runs `work` in `key`'s compartment; `{ admitted: false }` without running it when the compartment is full. */
  async run<T>(
    key: string,
    work: () => Promise<T>,
  ): Promise<{ admitted: true; value: T } | { admitted: false }> {
    const used = this.inUse.get(key) ?? 0;
    if (used >= this.limit) return { admitted: false };
    this.inUse.set(key, used + 1);
    try {
      return { admitted: true, value: await work() };
    } finally {
      const left = (this.inUse.get(key) ?? 1) - 1;
      if (left > 0) this.inUse.set(key, left);
      else this.inUse.delete(key);
    }
  }

  /** Work running in `key`'s compartment now. */
  used(key: string): number {
    return this.inUse.get(key) ?? 0;
  }
}
