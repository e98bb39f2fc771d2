import type { FilterQuery, Model, mongo } from 'mongoose';
import { AccountScopedRepository, InsertBatcher, SWEEP_MAX_SLICES, SWEEP_SLICE } from '@maskline/persistence';
import type { CallEventDocument } from './call-event.schema';

/**
 * The most session ids a sweep's query names (`$in`, `$nin`); on FerretDB each document is compared
 * with each id, so past it a pass reads the steps and matches the ids in memory.
 */
export const IN_QUERY_MAX = 5_000;
/** Steps per batch of a sweep's pass over a collection, and ids per delete statement. */
const STEPS_PASS_BATCH = 2_000;

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

  /**
   * An account's steps of these sessions, the newest `limit` of them. Served by `{ sessionId, at }`
   * (the order of one instant's steps is the reader's to give: a second sort key the index does not
   * hold would have the store read and sort all of them).
   */
  ofSessions(accountId: string, sessionIds: readonly string[], limit: number): Promise<CallEventDocument[]> {
    return this.findScoped(
      { sessionId: { $in: [...sessionIds] }, accountId },
      { sort: { at: -1 }, offset: 0, limit },
    );
  }

  /**
   * Every account's steps of these sessions (the ones a dropped day spares), handed to `each` up to
   * STEPS_PASS_BATCH at a time: one pass over the collection whatever their number. Up to
   * IN_QUERY_MAX ids the store matches them (`{ sessionId, at }`); past it the pass reads every
   * step and matches them in memory (on FerretDB each document is compared with each id of a query).
   */
  eachOfSessionsSystemWide(
    sessionIds: ReadonlySet<string>,
    each: (events: CallEventDocument[]) => Promise<void>,
    options: {
      /** Only these fields (and `_id`). */
      fields?: readonly (keyof CallEventDocument & string)[];
      /** Only the steps recorded before then. */
      recordedBefore?: Date;
    } = {},
  ): Promise<void> {
    const { fields, recordedBefore } = options;
    const filter: FilterQuery<CallEventDocument> = {
      ...(sessionIds.size <= IN_QUERY_MAX ? { sessionId: { $in: [...sessionIds] } } : {}),
      ...(recordedBefore ? { at: { $lt: recordedBefore } } : {}),
    };
    return this.systemWideSweeps.eachBatch(
      filter,
      STEPS_PASS_BATCH,
      async (docs) => {
        const of = docs.filter((d) => sessionIds.has(d.sessionId));
        if (of.length > 0) await each(of);
      },
      fields && [...new Set([...fields, 'sessionId' as const])],
    );
  }

  /**
   * Steps by id, whoever's, SWEEP_SLICE per statement (one scan each on FerretDB): the sweep taking
   * back a moved step its owner deleted meanwhile, or deleting what a pass found due.
   */
  async deleteByIdsSystemWide(ids: readonly string[]): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < ids.length; i += SWEEP_SLICE) {
      deleted += await this.systemWideSweeps.deleteByIds(ids.slice(i, i + SWEEP_SLICE));
    }
    return deleted;
  }

  /** One interaction's steps, as its session's owner deletes it. */
  async deleteInteraction(accountId: string, sessionId: string, callId: string): Promise<void> {
    await this.deleteScoped({ accountId, sessionId, callId });
  }

  /**
   * Every step recorded before `before` but those of the sessions in `keep`: up to IN_QUERY_MAX of
   * them, as one range (slices when the store refuses one that large; served by `{ at }`); past it,
   * one pass over the range (ids and sessions only) matching `keep` in memory, and what is not
   * kept deleted by id, SWEEP_SLICE a statement (a scan each on FerretDB: in the steady state an
   * hour's steps of sessions that ended), at most SWEEP_SLICE × SWEEP_MAX_SLICES a run (the next run
   * goes on).
   */
  async deleteRecordedBeforeSystemWide(before: Date, keep: ReadonlySet<string>): Promise<number> {
    if (keep.size <= IN_QUERY_MAX) {
      return this.systemWideSweeps.deleteDue(
        keep.size > 0 ? { sessionId: { $nin: [...keep] } } : {},
        'at',
        before,
      );
    }
    // Read first, then deleted: the store is never written while a pass over it is open.
    const due: string[] = [];
    await this.systemWideSweeps.eachBatch(
      { at: { $lt: before } },
      STEPS_PASS_BATCH,
      async (docs) => {
        for (const d of docs) if (!keep.has(d.sessionId)) due.push(d._id);
        return due.length < SWEEP_SLICE * SWEEP_MAX_SLICES;
      },
      ['sessionId'],
    );
    return this.deleteByIdsSystemWide(due);
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
