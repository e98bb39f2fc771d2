export interface WriteBatcherOptions {
  /** Most items in one write. */
  maxBatch: number;
  /**
   * How long the first item of a batch may wait for company (a full batch goes at once).
   * 0 (the default): the next turn of the event loop. Worth a few milliseconds where nobody waits on
   * the write and items trickle in one at a time, each a store transaction of its own otherwise.
   */
  maxWaitMs?: number;
}

/** What the store writes batched across concurrent callers use (inserts and statements alike): up to 200, next turn. */
export const STATEMENT_BATCH: WriteBatcherOptions = { maxBatch: 200 };

/** The latest of the times a batch's callers asked for: the one a batched statement writes for all. */
export function latestOf(times: readonly Date[]): Date {
  return new Date(Math.max(...times.map((t) => t.getTime())));
}

/** One caller's item in a batch, and how to tell that caller what became of it. */
export interface Pending<T, R> {
  item: T;
  resolve: (outcome: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Gathers items that callers submit one at a time into batches, each written by one call of
 * `write`, which settles every caller of its batch. The items that arrive while a batch is being
 * written go together in the next; at low load an item goes alone on the next turn of the event
 * loop, or after `maxWaitMs`. One batch is written at a time.
 */
export class WriteBatcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private timer:
    | { kind: 'timeout'; handle: NodeJS.Timeout }
    | { kind: 'immediate'; handle: NodeJS.Immediate }
    | undefined;
  private writing = false;

  constructor(
    private readonly write: (batch: Pending<T, R>[]) => Promise<void>,
    private readonly options: WriteBatcherOptions,
  ) {
    if (!(options.maxBatch >= 1)) throw new Error('WriteBatcher: maxBatch must be at least 1');
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /**
   * After the current I/O callbacks (so the items one network read triggers share a batch), or
   * after maxWaitMs unless the batch fills first.
   */
  private schedule(): void {
    if (this.writing) return; // what arrives meanwhile goes right after the write
    if (this.timer) {
      if (this.queue.length >= this.options.maxBatch) this.fire();
      return;
    }
    const wait = this.options.maxWaitMs ?? 0;
    this.timer =
      wait > 0
        ? { kind: 'timeout', handle: setTimeout(() => this.fire(), wait) }
        : { kind: 'immediate', handle: setImmediate(() => this.fire()) };
  }

  private fire(): void {
    if (this.timer?.kind === 'timeout') clearTimeout(this.timer.handle);
    if (this.timer?.kind === 'immediate') clearImmediate(this.timer.handle);
    this.timer = undefined;
    void this.writeNext();
  }

  private async writeNext(): Promise<void> {
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    const batch = this.queue.splice(0, this.options.maxBatch);
    try {
      await this.write(batch).catch((err: unknown) => {
        for (const p of batch) p.reject(err);
      });
    } finally {
      this.writing = false;
      // The items that came during the write have waited long enough: next turn.
      if (this.queue.length > 0) this.timer = { kind: 'immediate', handle: setImmediate(() => this.fire()) };
    }
  }
}

/**
 * One statement for many callers' items: the calls that arrive while one is being written go
 * together in the next (on FerretDB v1, where every filtered update or delete scans its collection,
 * one scan for the whole batch instead of one per item). Every caller of a batch learns its outcome.
 */
export class StatementBatcher<T> {
  private readonly batches: WriteBatcher<T, void>;

  constructor(statement: (items: T[]) => Promise<unknown>, options: WriteBatcherOptions) {
    this.batches = new WriteBatcher<T, void>(async (batch) => {
      await statement(batch.map((p) => p.item));
      for (const p of batch) p.resolve();
    }, options);
  }

  run(item: T): Promise<void> {
    return this.batches.submit(item);
  }
}
