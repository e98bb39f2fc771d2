import { Inject, Injectable } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import type { Connection, FilterQuery, Model } from 'mongoose';
import type { Logger } from 'pino';
import { CLOCK_SKEW_MS, sessionRecordsFrom, type AccountScope } from '@maskline/contracts';
import { retentionCutoff } from '@maskline/config';
import { LOGGER } from '@maskline/observability';
import { DAYS_AT_ONCE, DayKeptHistory, eachDayAtOnce } from '@maskline/persistence';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { PartyRedaction } from '../privacy/party-redaction';
import { EndedSessionParties } from './ended-session-parties.repository';
import type { EndedSessionPartiesDocument } from './ended-session-parties.schema';
import {
  DAY_MS,
  firstTalliedDay,
  recordsInItsDay,
  tallyHolds,
  talliedMatches,
  type TalliedMatches,
} from './ended-day-tally';
import { EndedSessionRecords } from './ended-session-records';
import { EndedSessionTallies } from './ended-session-tallies.repository';
import { LongLivedSessions, endedAtOf } from './long-lived-sessions.repository';
import {
  ENDED_SESSION_MODEL,
  EndedSessionDaySchema,
  newestFirst,
  type SessionDocument,
} from './session.schema';

/**
 * The most keys a list's first read takes of a collection to count it by them (`firstKeysCounted`);
 * past it, the collection is counted apart.
 */
const KEYS_COUNTED_MAX = 50_000;
/** The most past days one retention run tallies (an upgrade's backlog is spread over runs). */
const TALLY_DAYS_PER_RUN = 8;

/**
 * A collection a list reads: what its tally tells of the list's filter (null: it is counted), the
 * latest start it may hold, and the end of its day (the one kept before: none).
 */
interface ListedCollection {
  records: EndedSessionRecords;
  tallied: TalliedMatches | null;
  latestStart: number;
  until: number;
}

/** A list's ended session before it is read in full: its key, and the collection it is in. */
export interface EndedKey extends Pick<SessionDocument, '_id' | 'createdAt'> {
  in: EndedSessionRecords;
}

/**
 * The history: sessions that ended, as they were when they ended, their parties' numbers as digests
 * (the numbers themselves are kept apart, `EndedSessionParties`, until redaction deletes them), then
 * deleted by the retention sweep. Written once per session by the expiry, read by the API, the
 * sweeps, and the services' asks about a session no longer live (a late callback's target, a call
 * to a number whose session ended); no hot path of a live session reads it. Every read
 * gives the session as the API shows it: with its numbers while they are kept.
 *
 * Kept one collection per UTC day of the session's end (`ended_sessions_<yyyymmdd>`, `DayPartitions`):
 * retention drops whole days and deletes a range of the cutoff's day alone, where each of its
 * statements was a scan of the whole history on FerretDB (the range delete 44 s, the Proxy slice 38 s
 * at 108,000 ended sessions, every sweep interval, while creates waited behind them). The sessions
 * whose call steps the sweep must spare are noted apart (`LongLivedSessions`). A read by id reads
 * the days since the session began (its id says when: `sessionRecordsFrom`; every day kept for an
 * earlier version's id), the newest first, DAYS_AT_ONCE at a time, until one has it (an `_id`
 * lookup each, where it was one); a list reads the keys of each day it may find sessions in (those since the
 * list's earliest start), then the page's sessions in full. The collection kept before
 * (`ended_sessions`) is still read, swept and redacted (only its records may hold numbers in clear,
 * an earlier version's); the sweep's catch-up of ended sessions left in `sessions` writes there
 * too (never into a past day, which a sweep may be dropping), and so do an upgrade's first step
 * (`ENDED_SESSIONS_BY_DAY=false`) and an expiry that finishes more than an hour after its session's
 * day (`recordsInItsDay`: that day may be tallied). Lists count past days from their tallies
 * (`EndedSessionTallies`).
 */
@Injectable()
export class EndedSessionRepository extends DayKeptHistory<SessionDocument, EndedSessionRecords> {
  constructor(
    @InjectConnection() connection: Connection,
    @InjectModel(ENDED_SESSION_MODEL) model: Model<SessionDocument>,
    private readonly redaction: PartyRedaction,
    private readonly parties: EndedSessionParties,
    private readonly longLived: LongLivedSessions,
    private readonly tallies: EndedSessionTallies,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) logger: Logger,
  ) {
    super(connection, model, EndedSessionDaySchema, (day) => new EndedSessionRecords(day), {
      clock,
      onFailure: (err) =>
        logger.warn(
          { err },
          "could not make the ended sessions' collections ahead; tried again within the hour",
        ),
    });
  }

  /**
   * The collections that may hold one session, newest first: the days since it began, by its id
   * (`sessionRecordsFrom`), and the collection kept before. One that ended long ago, or an id that
   * names no time, spans more days than a lookup does, and is admitted as a scan too (`dayViewsOfOne`).
   */
  private async ofOneNewestFirst(sessionId: string): Promise<EndedSessionRecords[]> {
    return [...(await this.dayViewsOfOne(sessionRecordsFrom(sessionId))).reverse(), this.before];
  }

  /**
   * The first answer of `read` over the collections that may hold the session, newest first,
   * DAYS_AT_ONCE at a time: the days since it began, by its id (`sessionRecordsFrom`: a session
   * ends after it began; for a recent session, a day or two where it was every day kept), and the
   * collection kept before.
   */
  private async firstFound<R>(
    sessionId: string,
    read: (records: EndedSessionRecords) => Promise<R | null>,
  ): Promise<R | null> {
    const answers = await eachDayAtOnce(await this.ofOneNewestFirst(sessionId), read, (group) =>
      group.some((r) => r !== null),
    );
    return answers.find((r) => r !== null) ?? null;
  }

  /** An ended session visible to this scope. */
  async get(
    scope: AccountScope & Partial<SessionDocument>,
    sessionId: string,
  ): Promise<SessionDocument | null> {
    const record = await this.firstFound(sessionId, (records) => records.get(scope, sessionId));
    return record && withNumbers(record, await this.parties.of(record.accountId, sessionId));
  }

  async getByIdSystemWide(sessionId: string): Promise<SessionDocument | null> {
    const record = await this.firstFound(sessionId, (records) => records.getByIdSystemWide(sessionId));
    return record && withNumbers(record, await this.parties.of(record.accountId, sessionId));
  }

  /**
   * The keys of the first `limit` matches in the list order, each with the collection it is in,
   * and how many there are: `shown` reads a page of them in full. Only the days that may hold
   * sessions since the filter's earliest start are read (`earliestEnd`), and no day made ahead that
   * has not begun. A past day's tally (`EndedSessionTallies`) answers its count when it can tell; the
   * other collections are counted, DAYS_AT_ONCE at a time. The keys are read the latest starts first
   * until the page is full and no collection left can hold a later start (a session starts before
   * the end of the day it ended, give or take CLOCK_SKEW_MS; a tally knows its day's last start):
   * for the first page of recent sessions, the collection kept before and the newest day alone
   * (`keysInOrder`). A session in two collections (recorded by an earlier version and, in a race
   * with it, by this one) is given once, and counted once where both keys were read.
   */
  async firstKeys(
    filter: FilterQuery<SessionDocument> & { accountId: string },
    limit: number,
  ): Promise<{ keys: EndedKey[]; total: number }> {
    const now = this.clock();
    const collections = (await this.countable(filter, earliestEnd(filter.createdAt), now)).sort(
      (a, b) => b.latestStart - a.latestStart,
    );
    // The first read (the one kept before and the days not over yet: today, and tomorrow's once a
    // clock may have reached it) gives their keys and, where every read is a scan, their counts in
    // the same read; the rest are counted meanwhile.
    const first = new Set(collections.filter((c) => c.until > now));
    const counted = new Map<ListedCollection, number>();
    const readKeys = async (c: ListedCollection) => {
      if (c.tallied || !first.has(c)) return c.records.firstKeys(filter, limit);
      const read = await c.records.firstKeysCounted(filter, limit, KEYS_COUNTED_MAX);
      if (read.total !== null) counted.set(c, read.total);
      return read.keys;
    };
    const [counts, keys] = await Promise.all([
      eachDayAtOnce(
        collections.filter((c) => !first.has(c)),
        async (c) => c.tallied?.count ?? (await c.records.count(filter)),
      ),
      this.keysInOrder(collections, first, limit, readKeys),
    ]);
    // Not counted by the first read (another store, or past KEYS_COUNTED_MAX): counted now.
    const firstCounts = await Promise.all(
      [...first].map(async (c) => c.tallied?.count ?? counted.get(c) ?? (await c.records.count(filter))),
    );
    const total = [...counts, ...firstCounts].reduce((sum, n) => sum + n, 0) - keys.twice;
    return { keys: keys.keys, total };
  }

  /**
   * The collections a list reads, newest first (the one kept before first: it may hold any start),
   * each with what its tally tells of `filter` (null: it must be counted) and the latest start it
   * may hold.
   */
  private async countable(
    filter: FilterQuery<SessionDocument> & { accountId: string },
    since: Date | undefined,
    now: number,
  ): Promise<ListedCollection[]> {
    const retainedFrom = retentionCutoff(this.config.SESSION_RETENTION_DAYS, now);
    // Not a day made ahead that has not begun (give or take CLOCK_SKEW_MS): it holds nothing yet.
    const days = (await this.daysWithViews(since))
      .filter((d) => d.from.getTime() <= now + CLOCK_SKEW_MS)
      .reverse();
    const trusted = days.filter((d) => tallyHolds(d.from, retainedFrom, now)).map((d) => d.name);
    const tallies =
      trusted.length > 0 ? await this.tallies.of(trusted, filter.accountId) : new Map<string, never>();
    return [
      {
        records: this.before,
        tallied: null,
        latestStart: Number.POSITIVE_INFINITY,
        until: Number.POSITIVE_INFINITY,
      },
      ...days.map((d) => {
        const groups = tallies.get(d.name);
        const tallied = groups ? talliedMatches(groups, filter) : null;
        const until = d.from.getTime() + DAY_MS;
        const latestStart = tallied
          ? (tallied.lastCreatedAt?.getTime() ?? Number.NEGATIVE_INFINITY)
          : until + CLOCK_SKEW_MS;
        return { records: d.view, tallied, latestStart, until };
      }),
    ];
  }

  /**
   * The first `limit` keys over `collections` (the latest starts first: see `firstKeys`), and how
   * many were read twice: the `first` collections at once, then the next ones, as many as their
   * tallies say may fill the page and up to the first untallied one (at most DAYS_AT_ONCE), until
   * none left can hold a start later than the full page's last. A session in the collection kept
   * before and in a day is given as the day's (the earlier version's record may still hold numbers
   * in clear).
   */
  private async keysInOrder(
    collections: readonly ListedCollection[],
    first: ReadonlySet<ListedCollection>,
    limit: number,
    readKeys: (c: ListedCollection) => Promise<Pick<SessionDocument, '_id' | 'createdAt'>[]>,
  ): Promise<{ keys: EndedKey[]; twice: number }> {
    const left = collections.filter((c) => c.tallied?.count !== 0);
    const seen = new Map<string, EndedKey>();
    let twice = 0;
    let page: EndedKey[] = [];
    let group = left.filter((c) => first.has(c));
    for (;;) {
      for (const c of group) left.splice(left.indexOf(c), 1);
      const read = await Promise.all(group.map(async (c) => ({ c, keys: await readKeys(c) })));
      for (const { c, keys } of read) {
        for (const key of keys) {
          const had = seen.get(key._id);
          if (had) twice++;
          if (!had || had.in === this.before) seen.set(key._id, { ...key, in: c.records });
        }
      }
      page = [...seen.values()].sort(newestFirst).slice(0, limit);
      // The page is full, and every start left is earlier than its last (ties may still come).
      const last = page[limit - 1];
      const next = left.filter((c) => !last || last.createdAt.getTime() <= c.latestStart);
      if (next.length === 0) break;
      group = [];
      let known = page.length;
      for (const c of next.slice(0, DAYS_AT_ONCE)) {
        group.push(c);
        if (!c.tallied) break;
        known += c.tallied.count;
        if (known >= limit) break;
      }
    }
    return { keys: page, twice };
  }

  /**
   * The retention sweep's tally of past days (`EndedSessionTallies`): up to TALLY_DAYS_PER_RUN of the
   * days a list may trust a tally of and none was made for yet, the newest first, one pass over each;
   * then the tallies of days no longer trusted go. How many days were tallied.
   */
  async tallyPastDaysSystemWide(): Promise<number> {
    const now = this.clock();
    const retainedFrom = retentionCutoff(this.config.SESSION_RETENTION_DAYS, now);
    const due = (await this.days.existing()).filter((d) => tallyHolds(d.from, retainedFrom, now)).reverse();
    const done = await this.tallies.talliedOf(due.map((d) => d.name));
    let tallied = 0;
    for (const day of due.filter((d) => !done.has(d.name)).slice(0, TALLY_DAYS_PER_RUN)) {
      await this.tallies.keep(
        day.name,
        await this.days.viewOf(day.name).tallySystemWide(),
        new Date(this.clock()),
      );
      tallied++;
    }
    await this.tallies.forgetBefore(this.days.nameOf(firstTalliedDay(retainedFrom)));
    return tallied;
  }

  /** A page of an account's ended sessions, in its order, as shown: with their numbers while they are kept. */
  async shown(accountId: string, keys: readonly EndedKey[]): Promise<SessionDocument[]> {
    const byCollection = new Map<EndedSessionRecords, string[]>();
    for (const key of keys) byCollection.set(key.in, [...(byCollection.get(key.in) ?? []), key._id]);
    const records = new Map<string, SessionDocument>();
    for (const [collection, ids] of byCollection) {
      for (const record of await collection.byIds(accountId, ids)) records.set(record._id, record);
    }
    const kept = await this.parties.ofMany(accountId, [...records.keys()]);
    return keys.flatMap((key) => {
      const record = records.get(key._id);
      // Deleted by the retention sweep since its key was read: not shown.
      return record ? [withNumbers(record, kept.get(key._id) ?? null)] : [];
    });
  }

  /**
   * The sweep's catch-up of ended sessions left in `sessions` (few: an earlier version's, an expiry
   * that stopped between its writes): their numbers and long-lived notes first, then those not
   * recorded yet in the collection kept before, never into a past day's, which a sweep may be
   * dropping. Idempotent: a session already recorded keeps its first record.
   */
  async record(docs: SessionDocument[]): Promise<void> {
    if (docs.length === 0) return;
    await this.parties.keep(docs.map(partiesOf));
    await this.longLived.note(docs);
    // Recorded by an expiry in its end's day, or by an earlier version in the collection kept before:
    // one read of each (not of every day: on FerretDB each is a scan).
    const recorded = new Set<string>();
    const ids = { _id: { $in: docs.map((d) => d._id) } };
    const existing = new Set((await this.days.existing()).map((d) => d.name));
    const days = new Set(
      docs.map((d) => this.days.nameOf(endedAtOf(d))).filter((name) => existing.has(name)),
    );
    for (const records of [...[...days].map((name) => this.days.viewOf(name)), this.before]) {
      for (const id of await records.idsSystemWide(ids)) recorded.add(id);
    }
    await this.before.keep(docs.filter((d) => !recorded.has(d._id)).map((d) => this.asRecorded(d)));
  }

  /**
   * One expiry's record, written with those of the expiries running with it, in its end's day (in
   * the collection kept before with `ENDED_SESSIONS_BY_DAY=false`, or RECORD_IN_DAY_WITHIN_MS after
   * that day: `recordsInItsDay`); a second is a no-op.
   */
  async recordOne(
    doc: SessionDocument,
    /** When it is written, by this replica's clock (a test's history: when it ended). */
    now = this.clock(),
  ): Promise<void> {
    await this.parties.keepOne(partiesOf(doc));
    await this.longLived.note([doc]);
    // Into its day's collection, unless that day may be tallied already (an expiry that stalled for an hour).
    const inDay = this.config.ENDED_SESSIONS_BY_DAY && recordsInItsDay(endedAtOf(doc), now);
    const records = inDay ? await this.days.viewFor(endedAtOf(doc)) : this.before;
    await records.keepOne(this.asRecorded(doc));
  }

  /**
   * A record as the history keeps it: the parties' digests in their numbers' place from the start
   * (made under the key in force when the session ended), so redaction never has to write it.
   */
  private asRecorded(doc: SessionDocument): SessionDocument {
    return {
      ...doc,
      firstParty: this.redaction.digestOf(doc.accountId, doc.firstParty),
      secondParty: this.redaction.digestOf(doc.accountId, doc.secondParty),
      redactedAt: doc.expiredAt,
    };
  }

  /**
   * A Proxy session deleted through its API after it ended: it leaves the Service's list. Marked
   * wherever it is recorded (in two collections, each copy: the days since it began, by its id, and
   * the collection kept before), DAYS_AT_ONCE collections at a time.
   */
  async markProxyDeleted(scope: AccountScope, sessionId: string, at: Date): Promise<void> {
    await eachDayAtOnce(await this.ofOneNewestFirst(sessionId), (r) =>
      r.markProxyDeleted(scope, sessionId, at),
    );
  }

  // ---- Records an earlier version wrote with the numbers in clear: only in the collection kept before. ----

  /**
   * The redaction sweep of records an earlier version wrote with the numbers in clear and, beside
   * them, their digests under the current key: one statement renames the digests over the numbers
   * (a backlog an upgrade leaves, never again). The rest of them (no digests, or an earlier key's)
   * are `…WithoutCurrentDigests`'.
   */
  redactLegacyDueSystemWide(endedBefore: Date, exceptAccounts: readonly string[], at: Date): Promise<number> {
    return this.before.redactLegacyDueSystemWide(
      unredactedBefore(endedBefore, exceptAccounts),
      this.redaction.keyId,
      at,
    );
  }

  /**
   * The redaction sweep's catch-up: records still in clear without digests under the current key
   * (an earlier version wrote them, or the key has changed since).
   */
  unredactedWithoutCurrentDigestsSystemWide(
    endedBefore: Date,
    exceptAccounts: readonly string[],
    limit: number,
  ): Promise<SessionDocument[]> {
    return this.before.unredactedWithoutDigestsOf(
      unredactedBefore(endedBefore, exceptAccounts),
      this.redaction.keyId,
      limit,
    );
  }

  /**
   * Whether any record that ended before `endedBefore` still holds numbers (an earlier version wrote
   * it so), bar those of accounts that keep them: a read of the collection kept before alone.
   */
  anyUnredactedSystemWide(endedBefore: Date, exceptAccounts: readonly string[]): Promise<boolean> {
    return this.before.anySystemWide(unredactedBefore(endedBefore, exceptAccounts));
  }

  /** The catch-up's write: the parties' digests in place of their numbers, and no digest of another key. */
  redactSystemWide(
    sessionId: string,
    set: Pick<SessionDocument, 'firstParty' | 'secondParty' | 'redactedAt'>,
  ): Promise<void> {
    return this.before.redactSystemWide(sessionId, set);
  }

  // ---- Retention. ----

  /**
   * The retention sweep: sessions that ended before `endedBefore`. `cascade` runs first with the ids
   * of those whose belongings must go before them: every one's, or with `proxiesOnly` the Proxy
   * sessions' alone (their call steps go by time). Days wholly before the cutoff: their ids read in
   * one read, then the day dropped; the cutoff's day and the collection kept before: a range each
   * (`EndedSessionRecords.deleteEndedBeforeSystemWide`). The long-lived notes of the sessions gone
   * go after them.
   */
  async deleteEndedBeforeSystemWide(
    endedBefore: Date,
    cascade: (ids: string[]) => Promise<void>,
    { proxiesOnly }: { proxiesOnly: boolean },
  ): Promise<number> {
    const { dropped, left } = await this.days.dropBefore(endedBefore, async (day) => {
      const ids = await this.days.viewOf(day.name).idsSystemWide(proxiesOnly ? { proxy: { $ne: null } } : {});
      if (ids.length > 0) await cascade(ids);
    });
    let deleted = dropped;
    const day = left.find((d) => d.name === this.days.nameOf(endedBefore));
    if (day) {
      deleted += await this.days
        .viewOf(day.name)
        .deleteEndedBeforeSystemWide(endedBefore, cascade, { proxiesOnly });
    }
    deleted += await this.before.deleteEndedBeforeSystemWide(endedBefore, cascade, { proxiesOnly });
    await this.longLived.purgeSystemWide(endedBefore);
    return deleted;
  }

  /**
   * The retention sweep: the ids of ended sessions that began before `createdBefore` and are still
   * kept (ended at or after `endedFrom`): sessions that lasted long; at most `limit`. Read from the
   * long-lived notes, and from the collection kept before (an earlier version noted none).
   */
  async keptCreatedBeforeSystemWide(createdBefore: Date, endedFrom: Date, limit: number): Promise<string[]> {
    const noted = await this.longLived.keptCreatedBeforeSystemWide(createdBefore, endedFrom, limit);
    if (noted.length >= limit) return noted;
    // The full limit: a session in both (recorded by an earlier version and noted by this one) must
    // not hide that there are more than the limit.
    const before = await this.before.keptCreatedBeforeSystemWide(createdBefore, endedFrom, limit);
    return [...new Set([...noted, ...before])];
  }
}

/** Ended before `endedBefore`, numbers in clear, and not of an account that keeps them. */
function unredactedBefore(
  endedBefore: Date,
  exceptAccounts: readonly string[],
): FilterQuery<SessionDocument> {
  return {
    expiredAt: { $ne: null, $lte: endedBefore },
    redactedAt: null,
    ...(exceptAccounts.length > 0 ? { accountId: { $nin: [...exceptAccounts] } } : {}),
  };
}

/** The parties of an ended session, as kept apart from its record. */
function partiesOf(doc: SessionDocument): EndedSessionPartiesDocument {
  return {
    _id: doc._id,
    accountId: doc.accountId,
    firstParty: doc.firstParty,
    secondParty: doc.secondParty,
    endedAt: endedAtOf(doc),
  };
}

/** A record as shown: its parties' numbers while they are kept, their digests after. */
function withNumbers(record: SessionDocument, kept: EndedSessionPartiesDocument | null): SessionDocument {
  return kept ? { ...record, firstParty: kept.firstParty, secondParty: kept.secondParty } : record;
}

/**
 * The earliest end a session matching a list's start range may carry: its earliest start, less
 * CLOCK_SKEW_MS (it may have ended on a clock behind the one it began on); none without a lower bound.
 */
function earliestEnd(created: unknown): Date | undefined {
  if (typeof created !== 'object' || created === null) return undefined;
  const range = created as { $gte?: unknown; $gt?: unknown; $eq?: unknown };
  const bounds = [range.$gte, range.$gt, range.$eq].filter((b): b is Date => b instanceof Date);
  if (bounds.length === 0) return undefined;
  return new Date(Math.max(...bounds.map((b) => b.getTime())) - CLOCK_SKEW_MS);
}
