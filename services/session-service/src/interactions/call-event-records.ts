import type { Model, mongo } from 'mongoose';
import { AccountScopedRepository, InsertBatcher } from '@maskline/persistence';
import type { CallEventDocument } from './call-event.schema';

/**
 * The call steps in one collection: one day's (`call_events_<yyyymmdd>`), or the one kept before
 * steps were kept by day (`call_events`), which also takes the steps a dropped day spared.
 */
export class CallEventRecords extends AccountScopedRepository<CallEventDocument> {
  /**
   * Call steps arrive at the call rate; those within 20 ms of each other are written together (one
   * store command for many steps). Payloads were validated on the way in: plain documents, no
   * hydration.
   */
  private readonly inserts: InsertBatcher<CallEventDocument>;

  constructor(model: Model<CallEventDocument>) {
    super(model, { growsWithHistory: true });
    this.inserts = new InsertBatcher<CallEventDocument>(
      async (docs) => (await this.insertManyUnordered(docs)) as mongo.InsertManyResult<CallEventDocument>,
      { maxBatch: 100, maxWaitMs: 20 },
    );
  }

  /** Records the step once; a redelivery is a no-op. */
  async record(event: CallEventDocument): Promise<void> {
    await this.inserts.insert(event);
  }

  /** Steps not stored here yet (a dropped day's spared steps); one already here keeps its first version. */
  keep(events: CallEventDocument[]): Promise<void> {
    return this.insertManyKeepingFirst(events);
  }

  /** An account's steps of these sessions. Served by `{ sessionId, at }`. */
  ofSessions(accountId: string, sessionIds: readonly string[]): Promise<CallEventDocument[]> {
    return this.findScoped({ sessionId: { $in: [...sessionIds] }, accountId });
  }

  /** Every account's steps of these sessions (the ones a dropped day spares). Served by `{ sessionId, at }`. */
  ofSessionsSystemWide(sessionIds: readonly string[]): Promise<CallEventDocument[]> {
    return this.systemWideSweeps.find({ sessionId: { $in: [...sessionIds] } });
  }

  /** Steps by id, whoever's (the sweep taking back a moved step its owner deleted meanwhile). */
  deleteByIdsSystemWide(ids: readonly string[]): Promise<number> {
    return this.systemWideSweeps.deleteByIds(ids);
  }

  /** One interaction's steps, as its session's owner deletes it. */
  async deleteInteraction(accountId: string, sessionId: string, callId: string): Promise<void> {
    await this.deleteScoped({ accountId, sessionId, callId });
  }

  /**
   * Every step recorded before `before` but those of the sessions in `keep`, as one range (slices
   * when the store refuses one that large). Served by `{ at }`.
   */
  deleteRecordedBeforeSystemWide(before: Date, keep: readonly string[]): Promise<number> {
    return this.systemWideSweeps.deleteDue(
      keep.length > 0 ? { sessionId: { $nin: [...keep] } } : {},
      'at',
      before,
    );
  }

  /**
   * The steps of sessions being deleted, in one statement, or a range of them at a time when the
   * store refuses one that large. Served by `{ sessionId, at }`.
   */
  async deleteForSessionsSystemWide(sessionIds: readonly string[]): Promise<number> {
    if (sessionIds.length === 0) return 0;
    return this.systemWideSweeps.deleteAll({ sessionId: { $in: [...sessionIds] } }, 'at', {
      maxSlices: 1000,
    });
  }
}
