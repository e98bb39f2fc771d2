import { isDuplicateKeyError } from './mongo-errors';

/** What became of one document handed to an InsertBatcher. */
export type InsertOutcome = 'inserted' | 'duplicate';

export interface InsertBatcherOptions {
  /** Most documents in one insertMany. */
  maxBatch: number;
  /**
   * How long the first document of a batch may wait for company (a full batch goes at once).
   * 0 (the default): the next turn of the event loop. Worth a few milliseconds where nobody waits on
   * the write and documents trickle in one at a time, each a store transaction of its own otherwise.
   */
  maxWaitMs?: number;
}

interface Pending<T> {
  doc: T;
  resolve: (outcome: InsertOutcome) => void;
  reject: (err: unknown) => void;
}

interface WriteErrorLike {
  index: number;
  code?: number;
}

/**
 * Turns single-document inserts into unordered multi-document ones: the inserts that arrive while a
 * batch is being written go together in the next, in one store round trip (on FerretDB, one SQLite
 * transaction instead of one per document). At low load a document is written alone on the next
 * turn of the event loop, or after `maxWaitMs`. One batch is written at a time.
 *
 * Each caller learns its own document's fate: 'inserted', 'duplicate' (a unique index already holds
 * it: the usual redelivery no-op), or the error, rejected only for the documents it concerns (a write
 * error names its document; a failure of the whole command concerns them all).
 */
export class InsertBatcher<T> {
  private queue: Pending<T>[] = [];
  private timer:
    | { kind: 'timeout'; handle: NodeJS.Timeout }
    | { kind: 'immediate'; handle: NodeJS.Immediate }
    | undefined;
  private writing = false;

  constructor(
    private readonly insertMany: (docs: T[]) => Promise<unknown>,
    private readonly options: InsertBatcherOptions,
  ) {
    if (!(options.maxBatch >= 1)) throw new Error('InsertBatcher: maxBatch must be at least 1');
  }

  insert(doc: T): Promise<InsertOutcome> {
    return new Promise<InsertOutcome>((resolve, reject) => {
      this.queue.push({ doc, resolve, reject });
      this.schedule();
    });
  }

  /**
   * After the current I/O callbacks (so the inserts one network read triggers share a batch), or
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
      await this.write(batch);
    } finally {
      this.writing = false;
      // The documents that came during the write have waited long enough: next turn.
      if (this.queue.length > 0) this.timer = { kind: 'immediate', handle: setImmediate(() => this.fire()) };
    }
  }

  private async write(batch: Pending<T>[]): Promise<void> {
    try {
      await this.insertMany(batch.map((p) => p.doc));
      for (const p of batch) p.resolve('inserted');
    } catch (err) {
      settleFailedBatch(batch, err);
    }
  }
}

function settleFailedBatch<T>(batch: Pending<T>[], err: unknown): void {
  const e = err as {
    writeErrors?: WriteErrorLike | WriteErrorLike[];
    writeConcernError?: unknown;
    result?: { getWriteConcernError?: () => unknown };
  } | null;
  const writeErrors = e?.writeErrors === undefined ? [] : ([] as WriteErrorLike[]).concat(e.writeErrors);
  if (writeErrors.length === 0) {
    // The command as a whole failed (network, timeout, a lone duplicate reported without details).
    if (batch.length === 1 && isDuplicateKeyError(err)) batch[0].resolve('duplicate');
    else for (const p of batch) p.reject(err);
    return;
  }
  const byIndex = new Map(writeErrors.map((w) => [w.index, w]));
  // Without write concern, the documents that did not fail are not known to be durable.
  // (The driver keeps it on the bulk result when there are write errors too.)
  const concern = e?.writeConcernError ?? e?.result?.getWriteConcernError?.();
  const othersUnsure = concern !== undefined && concern !== null;
  batch.forEach((p, i) => {
    const failure = byIndex.get(i);
    if (failure?.code === 11000) p.resolve('duplicate');
    else if (failure || othersUnsure) p.reject(err);
    else p.resolve('inserted');
  });
}
