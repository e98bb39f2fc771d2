import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { AccountScopedRepository } from '@maskline/persistence';
import type { CallbackAttemptDocument } from './callback-records.schema';

/** The attempts in one collection (one day's, or the one kept before attempts were kept by day). */
export class CallbackAttemptRecords extends AccountScopedRepository<CallbackAttemptDocument> {
  constructor(model: Model<CallbackAttemptDocument>) {
    super(model, { growsWithHistory: true });
  }

  /**
   * Writes the attempt down; under `id`, once (written again, it is already there). The attempts
   * recorded together go in one insert (`insertUnlessTaken`): one store command per batch, not per
   * callback (in the soak at 20 sessions a second, 5,440 single inserts were the store's most
   * frequent command).
   */
  async record(attempt: Omit<CallbackAttemptDocument, '_id'>, id?: string): Promise<void> {
    await this.insertUnlessTaken({ ...attempt, _id: id ?? randomUUID() });
  }

  /** A session's attempts in time order, at most `limit`. Served by `{ accountId, sessionId, at }`. */
  ofSession(accountId: string, sessionId: string, limit: number): Promise<CallbackAttemptDocument[]> {
    return this.findScoped({ accountId, sessionId }, { limit, offset: 0, sort: { at: 1 } });
  }

  /** An account's attempts since a time, newest first, at most `limit`: for the statistics. Served by `{ accountId, at }`. */
  since(accountId: string, since: Date, limit: number): Promise<CallbackAttemptDocument[]> {
    return this.findScoped({ accountId, at: { $gte: since } }, { limit, offset: 0, sort: { at: -1 } }, [
      'at',
      'url',
      'outcome',
      'statusCode',
      'latencyMs',
      'error',
    ]);
  }

  /** Attempts made before `before`, as one range (slices of it when the store refuses one that large). Served by `{ at }`. */
  purgeSystemWide(before: Date): Promise<number> {
    return this.systemWideSweeps.deleteDue({}, 'at', before);
  }
}
