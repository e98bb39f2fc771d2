import { Inject, Injectable } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import type { Connection, Model } from 'mongoose';
import type { Logger } from 'pino';
import { CLOCK_SKEW_MS } from '@maskline/contracts';
import { LOGGER } from '@maskline/observability';
import { DayKeptHistory, eachDayAtOnce } from '@maskline/persistence';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { CallEventRecords, IN_QUERY_MAX } from './call-event-records';
import { CallEventDocument, CallEventSchema } from './call-event.schema';
import { CALL_STEPS_GRACE_MS, endedAtOf } from '../sessions/long-lived-sessions.repository';
import type { SessionDocument } from '../sessions/session.schema';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';

/**
 * A session, as far as reading its steps goes: when it began and, once it has ended, when (its
 * `expiredAt`, else its last change: `endedAtOf`).
 */
export type SessionStart = Pick<SessionDocument, '_id' | 'createdAt'> &
  Partial<Pick<SessionDocument, 'status' | 'expiredAt' | 'modifiedAt'>>;

/** How many sessions' SESSION_STEPS_READ_MAX one read of a page of them holds at most: a Plivo page's. */
const PAGE_SHARES = 20;
/**
 * How many sessions' SESSION_STEPS_READ_MAX one collection gives a read of a page at most: a page's
 * collections are read DAYS_AT_ONCE at a time, each holding this many steps until the read is done.
 */
const COLLECTION_SHARES = 4;

/**
 * How long after an ended session's end its steps are read: a step is recorded before its session
 * ends, during a call that outlived it (up to a day's time limit, then its recording), or as the
 * outcome of a message it took while live (retried about 17 hours at most while its provider is held
 * back), within CALL_STEPS_GRACE_MS as the sweep of steps counts; a day more for what is late beyond
 * that (ringing, a provider's webhook retries, a relay that lagged), and the routers' clock skew.
 */
export const RECORDED_AFTER_END_MS = CALL_STEPS_GRACE_MS + 24 * 3_600_000 + CLOCK_SKEW_MS;

/**
 * Call steps (and messages' outcomes), kept one collection per UTC day of when they were recorded
 * (`call_events_<yyyymmdd>`, `DayPartitions`): the retention sweep drops the days before its range,
 * where its range delete over every step kept was one statement scanning them all on FerretDB (54 s
 * at 128,000 steps in the soak, while creates and expiries waited behind it). The steps of sessions
 * still kept (they lived long) are first moved to the collection kept before days (`call_events`),
 * which is read and swept as before. A session's steps are read from every day kept and that one.
 */
@Injectable()
export class CallEventRepository extends DayKeptHistory<CallEventDocument, CallEventRecords> {
  /** The most steps of one session a read returns (its newest): SESSION_STEPS_READ_MAX. */
  private readonly stepsReadMax: number;

  constructor(
    @InjectConnection() connection: Connection,
    @InjectModel(CallEventDocument.name) model: Model<CallEventDocument>,
    @Inject(CLOCK) clock: Clock,
    @Inject(LOGGER) logger: Logger,
    @Inject(SESSION_SERVICE_CONFIG) config: Pick<SessionServiceConfig, 'SESSION_STEPS_READ_MAX'>,
  ) {
    super(connection, model, CallEventSchema, (day) => new CallEventRecords(day), {
      clock,
      onFailure: (err) =>
        logger.warn({ err }, "could not make the call steps' collections ahead; tried again within the hour"),
    });
    this.stepsReadMax = config.SESSION_STEPS_READ_MAX;
  }

  /**
   * Every collection of steps: the one kept before and the days, oldest first; with `since`, only the
   * days that may hold steps recorded since then.
   */
  private async all(since?: Date): Promise<CallEventRecords[]> {
    return [this.before, ...(await this.dayViews(since))];
  }

  /** `each` over the collections (`all`), DAYS_AT_ONCE at a time, in their order. */
  private async eachCollection<R>(
    each: (records: CallEventRecords) => Promise<R>,
    since?: Date,
  ): Promise<R[]> {
    return eachDayAtOnce(await this.all(since), each);
  }

  /** Records the step once, in the day it was recorded; a redelivery is a no-op (the same day, the same id). */
  async record(event: CallEventDocument): Promise<void> {
    await (await this.days.viewFor(event.at)).record(event);
  }

  /**
   * A session's steps, in time order, its newest SESSION_STEPS_READ_MAX: read from the days since it
   * began (and the collection kept before).
   */
  async forSession(accountId: string, session: SessionStart): Promise<CallEventDocument[]> {
    return (await this.newest(accountId, [session], this.stepsReadMax)).steps;
  }

  /**
   * The steps of several sessions of one account (a page of them), by session, in time order, each
   * its newest SESSION_STEPS_READ_MAX. One read of them all holds at most that many steps for each of
   * up to PAGE_SHARES of them (a page of 1,000 Proxy Sessions no more than one of 20 Plivo ones);
   * past that (some session of the page has many), each is read on its own, in page order, within
   * the same budget: a page whose sessions recorded more than it holds shows the first sessions'
   * newest steps and the rest's as far as it goes. Only a session texted or called tens of
   * thousands of times in a page of its owner's meets that.
   */
  async forSessions(
    accountId: string,
    sessions: ReadonlyArray<SessionStart>,
  ): Promise<Map<string, CallEventDocument[]>> {
    const bySession = new Map<string, CallEventDocument[]>();
    if (sessions.length === 0) return bySession;
    const budget = this.stepsReadMax * Math.min(sessions.length, PAGE_SHARES);
    const together = await this.newest(accountId, sessions, budget);
    if (!together.cut) {
      for (const e of together.steps) {
        const list = bySession.get(e.sessionId);
        if (list) list.push(e);
        else bySession.set(e.sessionId, [e]);
      }
      // As a get of each shows it: its newest SESSION_STEPS_READ_MAX.
      for (const [id, list] of bySession) {
        if (list.length > this.stepsReadMax) bySession.set(id, list.slice(-this.stepsReadMax));
      }
      return bySession;
    }
    let left = budget;
    for (const s of sessions) {
      if (left <= 0) break;
      const { steps } = await this.newest(accountId, [s], Math.min(this.stepsReadMax, left));
      left -= steps.length;
      if (steps.length > 0) bySession.set(s._id, steps);
    }
    return bySession;
  }

  /**
   * The newest `cap` steps of these sessions, in time order, and whether older ones were left out
   * (`cut`). Read from the days since the earliest of them began (less CLOCK_SKEW_MS: steps are timed
   * by the routers' clocks) and, when all have ended, until RECORDED_AFTER_END_MS after the last of
   * them ended, the newest day first, and the collection kept before last; each collection gives its
   * newest `cap` at most (COLLECTION_SHARES sessions' worth for a page), and the read stops once `cap`
   * are in hand. So a get of a session that ended
   * weeks ago reads its own days, not every day since; one whose days are more than a lookup's is
   * admitted as a scan as well (`dayViewsOfOne`). A step in two collections (spared and moved, until
   * its day is dropped; an earlier version's) is given once.
   */
  private async newest(
    accountId: string,
    sessions: ReadonlyArray<SessionStart>,
    cap: number,
  ): Promise<{ steps: CallEventDocument[]; cut: boolean }> {
    const ids = sessions.map((s) => s._id);
    const since = new Date(Math.min(...sessions.map((s) => s.createdAt.getTime())) - CLOCK_SKEW_MS);
    const until = sessions.every(hasEnded)
      ? new Date(Math.max(...sessions.map((s) => endedAtOf(s).getTime())) + RECORDED_AFTER_END_MS)
      : undefined;
    const collections = [...(await this.dayViewsOfOne(since, until)).reverse(), this.before];
    const found = new Map<string, CallEventDocument>();
    const limit = Math.min(cap, this.stepsReadMax * COLLECTION_SHARES);
    let cut = false;
    await eachDayAtOnce(
      collections,
      async (r) => {
        const events = await r.ofSessions(accountId, ids, limit);
        cut ||= events.length >= limit;
        for (const e of events) if (!found.has(e._id)) found.set(e._id, e);
        return events.length;
      },
      () => found.size >= cap,
    );
    const steps = [...found.values()].sort(inTimeOrder);
    if (steps.length >= cap) cut = true;
    return { steps: steps.slice(-cap), cut };
  }

  /**
   * One interaction's steps (a call's, or a message's outcome), as its session's owner deletes it:
   * from the days first, the collection kept before last, so that a step the sweep is moving there
   * from a day meanwhile goes too (the sweep also takes back what left its day while it moved).
   */
  async deleteInteraction(accountId: string, sessionId: string, callId: string): Promise<void> {
    const all = await this.all();
    await Promise.all(all.slice(1).map((r) => r.deleteInteraction(accountId, sessionId, callId)));
    await this.before.deleteInteraction(accountId, sessionId, callId);
  }

  /**
   * The retention sweep: every step recorded before `before` but those of the sessions in `keep`
   * (still live, or kept). Days wholly before it: the kept sessions' steps moved to the collection
   * kept before (`moveSpared`), then the day dropped. The day it falls in: a range (one scan on
   * FerretDB), sparing `keep` in its query; past IN_QUERY_MAX of them, their steps in the range are
   * moved first and the range spares none. The collection kept before: a range sparing `keep`
   * (past IN_QUERY_MAX, a pass that matches them in memory).
   */
  async deleteRecordedBeforeSystemWide(before: Date, keep: readonly string[]): Promise<number> {
    const spare = new Set(keep);
    const { dropped, left } = await this.days.dropBefore(before, (day) =>
      this.moveSpared(this.days.viewOf(day.name), spare),
    );
    let deleted = dropped;
    const day = left.find((d) => d.name === this.days.nameOf(before));
    if (day) {
      const records = this.days.viewOf(day.name);
      if (spare.size > IN_QUERY_MAX) {
        await this.moveSpared(records, spare, before);
        deleted += await records.deleteRecordedBeforeSystemWide(before, new Set());
      } else deleted += await records.deleteRecordedBeforeSystemWide(before, spare);
    }
    return deleted + (await this.before.deleteRecordedBeforeSystemWide(before, spare));
  }

  /**
   * The steps of the sessions in `spare` (recorded before `recordedBefore`, if given) copied from a
   * day to the collection kept before, a batch at a time in one pass over the day; then an
   * interaction its owner deleted from the day meanwhile is taken back from there (a second pass,
   * ids only). Idempotent: a step already there keeps its first copy. Holds the ids of the steps
   * it moves (a day's spared steps) until it has taken back.
   */
  private async moveSpared(records: CallEventRecords, spare: ReadonlySet<string>, recordedBefore?: Date) {
    if (spare.size === 0) return;
    const moved = new Set<string>();
    await records.eachOfSessionsSystemWide(
      spare,
      async (events) => {
        await this.before.keep(events);
        for (const e of events) moved.add(e._id);
      },
      { recordedBefore },
    );
    await records.eachOfSessionsSystemWide(
      spare,
      async (events) => {
        for (const e of events) moved.delete(e._id);
      },
      { fields: ['_id'], recordedBefore },
    );
    await this.before.deleteByIdsSystemWide([...moved]);
  }

  /**
   * The retention sweep: the steps of sessions being deleted, from every collection (a scan of each
   * on FerretDB), when the steps cannot go by time: more sessions to spare than a range may name.
   * Days are not dropped meanwhile.
   */
  async deleteForSessionsSystemWide(sessionIds: readonly string[]): Promise<number> {
    if (sessionIds.length === 0) return 0;
    return (await this.eachCollection((r) => r.deleteForSessionsSystemWide(sessionIds))).reduce(
      (a, b) => a + b,
      0,
    );
  }
}

function hasEnded(
  s: SessionStart,
): s is SessionStart & Pick<SessionDocument, 'expiredAt' | 'modifiedAt'> & { status: 'expired' } {
  return s.status === 'expired' && (s.expiredAt instanceof Date || s.modifiedAt instanceof Date);
}

/** Steps by time, those of one instant by id: whatever order the store gave them in. */
function inTimeOrder(a: CallEventDocument, b: CallEventDocument): number {
  return a.at.getTime() - b.at.getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);
}
