/** A piece of work in a compartment, from when it started (epoch ms). */
interface Running {
  startedAt: number;
}

interface Compartment {
  /** The work running, oldest first (a Set iterates in insertion order, and work is inserted as it starts). */
  running: Set<Running>;
  /** Work waiting for a turn, first come first served: each is handed the slot of work that ends. */
  waiting: Array<(slot: Running | null) => void>;
}

/**
 * Compartments of bounded concurrency, one per key (an account, an account and host): work in a
 * full compartment is not started, so one key's slow work cannot take every slot. Work may wait a
 * bounded time for a turn; at most `maxWaiting` (the limit by default) wait in a compartment, so
 * waiting too holds a bounded number of a caller's slots. Per process.
 */
export class Bulkheads {
  private readonly compartments = new Map<string, Compartment>();
  private readonly maxWaiting: number;
  private closed = false;

  constructor(
    private readonly limit: number,
    private readonly now: () => number = Date.now,
    options: { maxWaiting?: number } = {},
  ) {
    this.maxWaiting = options.maxWaiting ?? limit;
  }

  /**
   * Runs `work` in `key`'s compartment. When it is full, waits up to `waitMs` for a turn (none by
   * default; none either when `maxWaiting` already wait, or once closed); `{ admitted: false }`
   * without running it when no turn came.
   */
  async run<T>(
    key: string,
    work: () => Promise<T>,
    options: { waitMs?: number } = {},
  ): Promise<{ admitted: true; value: T } | { admitted: false }> {
    let compartment = this.compartments.get(key);
    if (!compartment) this.compartments.set(key, (compartment = { running: new Set(), waiting: [] }));
    // Admitted at once, the work starts in this call (no await before it), as callers counting on it expect.
    const taken = this.take(compartment, options.waitMs ?? 0);
    const slot = taken instanceof Promise ? await taken : taken;
    if (!slot) {
      this.forgetIfIdle(key, compartment);
      return { admitted: false };
    }
    try {
      return { admitted: true, value: await work() };
    } finally {
      compartment.running.delete(slot);
      const next = compartment.waiting.shift();
      if (next) {
        // Handed over, so that work arriving meanwhile cannot take the turn of one that waited.
        const handed = { startedAt: this.now() };
        compartment.running.add(handed);
        next(handed);
      } else {
        this.forgetIfIdle(key, compartment);
      }
    }
  }

  /** Work running in `key`'s compartment now. */
  used(key: string): number {
    return this.compartments.get(key)?.running.size ?? 0;
  }

  /** Work waiting for a turn in `key`'s compartment now. */
  waiting(key: string): number {
    return this.compartments.get(key)?.waiting.length ?? 0;
  }

  /** Whether work for `key` would be neither started nor let wait now (with a wait asked for). */
  refuses(key: string): boolean {
    return this.used(key) >= this.limit && (this.closed || this.waiting(key) >= this.maxWaiting);
  }

  /**
   * Stops the waiting (at shutdown): work waiting for a turn is told no turn came, and work that
   * finds its compartment full no longer waits. Work running, and work admitted at once, go on.
   */
  close(): void {
    this.closed = true;
    for (const [key, compartment] of this.compartments) {
      for (const waiter of compartment.waiting.splice(0)) waiter(null);
      this.forgetIfIdle(key, compartment);
    }
  }

  /** How long the oldest work running in `key`'s compartment has been running (ms); 0 when none is. */
  oldestRunningMs(key: string): number {
    const oldest = this.compartments.get(key)?.running.values().next().value;
    return oldest ? Math.max(0, this.now() - oldest.startedAt) : 0;
  }

  private take(compartment: Compartment, waitMs: number): Promise<Running | null> | Running | null {
    if (compartment.running.size < this.limit) {
      const slot = { startedAt: this.now() };
      compartment.running.add(slot);
      return slot;
    }
    if (waitMs <= 0 || this.closed || compartment.waiting.length >= this.maxWaiting) return null;
    return new Promise<Running | null>((resolve) => {
      const waiter = (slot: Running | null) => {
        clearTimeout(timer);
        resolve(slot);
      };
      const timer = setTimeout(() => {
        const at = compartment.waiting.indexOf(waiter);
        if (at >= 0) compartment.waiting.splice(at, 1);
        resolve(null);
      }, waitMs);
      timer.unref();
      compartment.waiting.push(waiter);
    });
  }

  private forgetIfIdle(key: string, compartment: Compartment): void {
    if (
      compartment.running.size === 0 &&
      compartment.waiting.length === 0 &&
      this.compartments.get(key) === compartment
    ) {
      this.compartments.delete(key);
    }
  }
}
