import { isDuplicateKeyError } from './mongo-errors';
import { WriteBatcher, type Pending, type WriteBatcherOptions } from './write-batcher';

/** What became of one document handed to an InsertBatcher. */
export type InsertOutcome = 'inserted' | 'duplicate';

export type InsertBatcherOptions = WriteBatcherOptions;

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
  private readonly batches: WriteBatcher<T, InsertOutcome>;

  constructor(
    private readonly insertMany: (docs: T[]) => Promise<unknown>,
    options: InsertBatcherOptions,
  ) {
    this.batches = new WriteBatcher((batch) => this.write(batch), options);
  }

  insert(doc: T): Promise<InsertOutcome> {
    return this.batches.submit(doc);
  }

  private async write(batch: Pending<T, InsertOutcome>[]): Promise<void> {
    try {
      await this.insertMany(batch.map((p) => p.item));
      for (const p of batch) p.resolve('inserted');
    } catch (err) {
      settleFailedBatch(batch, err);
    }
  }
}

function settleFailedBatch<T>(batch: Pending<T, InsertOutcome>[], err: unknown): void {
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
