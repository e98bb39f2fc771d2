import type { FilterQuery, Model, UpdateQuery } from 'mongoose';
import type { AccountScope } from '@maskline/contracts';
import { AccountScopedRepository } from '@maskline/persistence';
import { DayTallyBuilder, type AccountTally } from './ended-day-tally';
import type { SessionDocument } from './session.schema';

/** Records a tally's pass takes at a time. */
const TALLY_BATCH = 2_000;

/**
 * The ended sessions' records in one collection: one day's (`ended_sessions_<yyyymmdd>`), or the one
 * kept before records were kept by day (`ended_sessions`). Records as stored: `EndedSessionRepository`
 * gives them their numbers.
 */
export class EndedSessionRecords extends AccountScopedRepository<SessionDocument> {
  constructor(model: Model<SessionDocument>) {
    super(model, { growsWithHistory: true });
  }

  get(scope: AccountScope & Partial<SessionDocument>, sessionId: string): Promise<SessionDocument | null> {
    return this.findByIdScoped(scope, sessionId);
  }

  getByIdSystemWide(sessionId: string): Promise<SessionDocument | null> {
    return this.systemWide.findById(sessionId);
  }

  /**
   * The first `limit` matches in the list order, as their ids and start times alone (a page is
   * cut from every collection's, then read in full: `byIds`). Served by `{ accountId, createdAt }`.
   */
  async firstKeys(
    filter: FilterQuery<SessionDocument> & { accountId: string },
    limit: number,
  ): Promise<Pick<SessionDocument, '_id' | 'createdAt'>[]> {
    return this.findScoped(filter, { limit, offset: 0, sort: { createdAt: -1, _id: 1 } }, ['createdAt']);
  }

  /**
   * `firstKeys`, and how many match, from one read of up to `most` keys where the store scans the
   * collection for each (FerretDB: one scan, where a count is a second); elsewhere, and past `most`,
   * the keys alone (null: count them apart, an index count on MongoDB). Served by `{ accountId, createdAt }`.
   */
  async firstKeysCounted(
    filter: FilterQuery<SessionDocument> & { accountId: string },
    limit: number,
    most: number,
  ): Promise<{ keys: Pick<SessionDocument, '_id' | 'createdAt'>[]; total: number | null }> {
    if (!(await this.storeScansReads())) return { keys: await this.firstKeys(filter, limit), total: null };
    const keys = await this.firstKeys(filter, Math.max(limit, most) + 1);
    return { keys: keys.slice(0, limit), total: keys.length > most ? null : keys.length };
  }

  /** How many match. Served by `{ accountId, createdAt }`. */
  count(filter: FilterQuery<SessionDocument> & { accountId: string }): Promise<number> {
    return this.countScoped(filter);
  }

  /** This collection's tally (a past day's), each account's, in one pass over it. */
  async tallySystemWide(): Promise<AccountTally[]> {
    const tally = new DayTallyBuilder();
    await this.systemWideSweeps.eachBatch({}, TALLY_BATCH, async (records) => tally.add(records), [
      'accountId',
      'subaccountId',
      'createdAt',
      'proxy',
    ]);
    return tally.accounts();
  }

  /** An account's records by id (a page of the list). */
  byIds(accountId: string, sessionIds: readonly string[]): Promise<SessionDocument[]> {
    if (sessionIds.length === 0) return Promise.resolve([]);
    return this.findScoped(
      { accountId, _id: { $in: [...sessionIds] } },
      { limit: sessionIds.length, offset: 0 },
    );
  }

  /** Records not stored yet; one already stored keeps its first version. */
  keep(docs: SessionDocument[]): Promise<void> {
    return this.insertManyKeepingFirst(docs);
  }

  /** One record, written with those of the expiries running with it; a second is a no-op. */
  async keepOne(doc: SessionDocument): Promise<void> {
    await this.insertUnlessTaken(doc);
  }

  /** A Proxy session deleted through its API after it ended: whether its record is here. */
  async markProxyDeleted(scope: AccountScope, sessionId: string, at: Date): Promise<boolean> {
    const matched = await this.updateOneScoped({ _id: sessionId, accountId: scope.accountId }, {
      $set: { 'proxy.deletedAt': at },
    } as UpdateQuery<SessionDocument>);
    return matched > 0;
  }

  /** The ids of every record here matching `filter` (a day about to be dropped): one read. */
  async idsSystemWide(filter: FilterQuery<SessionDocument>): Promise<string[]> {
    return (await this.systemWideSweeps.find(filter, {}, ['_id'])).map((r) => r._id);
  }

  /**
   * Ended before `endedBefore`, after `cascade` has run with the ids of those whose belongings must
   * go first: every one's, a slice at a time; or with `proxiesOnly` the Proxy sessions' alone, a
   * slice at a time, and the rest as one range (on FerretDB two scans when no Proxy session is
   * due). Served by `{ expiredAt }`.
   */
  async deleteEndedBeforeSystemWide(
    endedBefore: Date,
    cascade: (ids: string[]) => Promise<void>,
    { proxiesOnly }: { proxiesOnly: boolean },
  ): Promise<number> {
    if (!proxiesOnly) {
      return this.systemWideSweeps.deleteDue({}, 'expiredAt', endedBefore, { beforeEach: cascade });
    }
    const proxies = await this.systemWideSweeps.deleteDue(
      { proxy: { $ne: null } },
      'expiredAt',
      endedBefore,
      {
        beforeEach: cascade,
      },
    );
    return proxies + (await this.systemWideSweeps.deleteDue({ proxy: null }, 'expiredAt', endedBefore));
  }

  /**
   * The ids of records of sessions that began before `createdBefore` and are still kept (ended at
   * or after `endedFrom`), at most `limit`. Served by `{ createdAt }`.
   */
  async keptCreatedBeforeSystemWide(createdBefore: Date, endedFrom: Date, limit: number): Promise<string[]> {
    const rows = await this.systemWideSweeps.find(
      { createdAt: { $lt: createdBefore }, expiredAt: { $gte: endedFrom } },
      { limit },
      ['_id'],
    );
    return rows.map((r) => r._id);
  }

  // ---- Records an earlier version wrote with the numbers in clear (the collection kept before days). ----

  /**
   * In one statement, those with digests under the current key beside the numbers: the digests
   * renamed over the numbers (on FerretDB one scan, then a write each by `_id`). Served by `{ expiredAt }`.
   */
  redactLegacyDueSystemWide(
    unredacted: FilterQuery<SessionDocument>,
    keyId: string,
    at: Date,
  ): Promise<number> {
    return this.systemWideSweeps.updateMany(
      { ...unredacted, digestKeyId: keyId },
      {
        $rename: { firstPartyDigest: 'firstParty', secondPartyDigest: 'secondParty' },
        $set: { redactedAt: at },
        $unset: { digestKeyId: '' },
      },
    );
  }

  /** The rest: in clear without digests under the current key. Served by `{ expiredAt }`. */
  unredactedWithoutDigestsOf(
    unredacted: FilterQuery<SessionDocument>,
    keyId: string,
    limit: number,
  ): Promise<SessionDocument[]> {
    return this.systemWideSweeps.find({ ...unredacted, digestKeyId: { $ne: keyId } }, { limit });
  }

  /** Whether any matches. Served by `{ expiredAt }`. */
  async anySystemWide(filter: FilterQuery<SessionDocument>): Promise<boolean> {
    return (await this.systemWideSweeps.find(filter, { limit: 1 }, ['_id'])).length > 0;
  }

  /** The catch-up's write: the parties' digests in place of their numbers, and no digest of another key. */
  redactSystemWide(
    sessionId: string,
    set: Pick<SessionDocument, 'firstParty' | 'secondParty' | 'redactedAt'>,
  ): Promise<void> {
    return this.systemWideSweeps.updateById(sessionId, {
      $set: set,
      $unset: { firstPartyDigest: '', secondPartyDigest: '', digestKeyId: '' },
    });
  }
}
