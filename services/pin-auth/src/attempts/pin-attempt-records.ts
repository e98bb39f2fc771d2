import type { Model } from 'mongoose';
import { AccountScopedRepository, isDuplicateKeyError } from '@maskline/persistence';
import type { PinAttemptDocument } from './pin-attempt.schema';

/** What the PIN security summary counts of an entry. */
export type PinAttemptCounted = Pick<
  PinAttemptDocument,
  '_id' | 'at' | 'outcome' | 'virtualNumber' | 'callerKey' | 'callerMasked'
>;

/** The PIN entries in one collection (one day's, or the one kept before entries were kept by day). */
export class PinAttemptRecords extends AccountScopedRepository<PinAttemptDocument> {
  constructor(model: Model<PinAttemptDocument>) {
    super(model, { growsWithHistory: true });
  }

  /** Writes the entry down once (its `_id` is the call, outcome and attempt: written again, it is already there). */
  async record(entry: PinAttemptDocument): Promise<void> {
    try {
      await this.insertOne(entry);
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
  }

  /** The calls whose entries matched the session, at most `limit` entries read. Served by `{ accountId, sessionId }`. */
  async callsOfSession(accountId: string, sessionId: string, limit: number): Promise<string[]> {
    const matched = await this.findScoped({ accountId, sessionId }, { limit, offset: 0 }, ['callId']);
    return matched.map((m) => m.callId);
  }

  /** Every entry of those calls, at most `limit`. Served by `{ accountId, callId }`. */
  ofCalls(accountId: string, callIds: readonly string[], limit: number): Promise<PinAttemptDocument[]> {
    return this.findScoped({ accountId, callId: { $in: [...callIds] } }, { limit, offset: 0 });
  }

  /** An account's entries since a time, newest first, at most `limit`: only what the summary counts. Served by `{ accountId, at }`. */
  since(accountId: string, since: Date, limit: number): Promise<PinAttemptCounted[]> {
    return this.findScoped({ accountId, at: { $gte: since } }, { limit, offset: 0, sort: { at: -1 } }, [
      'at',
      'outcome',
      'virtualNumber',
      'callerKey',
      'callerMasked',
    ]);
  }

  /** Entries made before `before`, as one range (slices of it when the store refuses one that large). Served by `{ at }`. */
  purgeSystemWide(before: Date): Promise<number> {
    return this.systemWideSweeps.deleteDue({}, 'at', before);
  }
}
