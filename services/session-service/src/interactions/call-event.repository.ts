import { Inject, Injectable } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import type { Connection, Model } from 'mongoose';
import type { Logger } from 'pino';
import { LOGGER } from '@maskline/observability';
import { DayKeptHistory } from '@maskline/persistence';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { CallEventRecords } from './call-event-records';
import { CallEventDocument, CallEventSchema } from './call-event.schema';

/** The days' collections one read or sweep step works on at once. */
const DAYS_AT_ONCE = 8;

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
  constructor(
    @InjectConnection() connection: Connection,
    @InjectModel(CallEventDocument.name) model: Model<CallEventDocument>,
    @Inject(CLOCK) clock: Clock,
    @Inject(LOGGER) logger: Logger,
  ) {
    super(connection, model, CallEventSchema, (day) => new CallEventRecords(day), {
      clock,
      onFailure: (err) =>
        logger.warn({ err }, "could not make the call steps' collections ahead; tried again within the hour"),
    });
  }

  /** Every collection of steps: the days, oldest first, and the one kept before. */
  private async all(): Promise<CallEventRecords[]> {
    return [this.before, ...(await this.days.existing()).map((d) => this.days.viewOf(d.name))];
  }

  /** `each` over every collection, DAYS_AT_ONCE at a time. */
  private async eachCollection<R>(each: (records: CallEventRecords) => Promise<R>): Promise<R[]> {
    const all = await this.all();
    const out: R[] = [];
    for (let i = 0; i < all.length; i += DAYS_AT_ONCE) {
      out.push(...(await Promise.all(all.slice(i, i + DAYS_AT_ONCE).map(each))));
    }
    return out;
  }

  /** Records the step once, in the day it was recorded; a redelivery is a no-op (the same day, the same id). */
  async record(event: CallEventDocument): Promise<void> {
    await (await this.days.viewFor(event.at)).record(event);
  }

  async forSession(accountId: string, sessionId: string): Promise<CallEventDocument[]> {
    return (await this.forSessions(accountId, [sessionId])).get(sessionId) ?? [];
  }

  /** The steps of several sessions of one account, by session, in time order. */
  async forSessions(accountId: string, sessionIds: string[]): Promise<Map<string, CallEventDocument[]>> {
    const bySession = new Map<string, CallEventDocument[]>();
    if (sessionIds.length === 0) return bySession;
    const found = new Map<string, CallEventDocument>();
    for (const events of await this.eachCollection((r) => r.ofSessions(accountId, sessionIds))) {
      // A step a dropped day spared may be in the collection kept before and, until the drop, in its day.
      for (const e of events) found.set(e._id, e);
    }
    for (const e of [...found.values()].sort((a, b) => a.at.getTime() - b.at.getTime())) {
      const list = bySession.get(e.sessionId);
      if (list) list.push(e);
      else bySession.set(e.sessionId, [e]);
    }
    return bySession;
  }

  /** One interaction's steps (a call's, or a message's outcome), as its session's owner deletes it. */
  async deleteInteraction(accountId: string, sessionId: string, callId: string): Promise<void> {
    await this.eachCollection((r) => r.deleteInteraction(accountId, sessionId, callId));
  }

  /**
   * The retention sweep: every step recorded before `before` but those of the sessions in `keep`
   * (still live, or kept). Days wholly before it: the kept sessions' steps moved to the collection
   * kept before (one read of the day), then the day dropped; the day it falls in and the collection
   * kept before: a range each (one scan of each on FerretDB). Served by `{ at }`.
   */
  async deleteRecordedBeforeSystemWide(before: Date, keep: readonly string[]): Promise<number> {
    const { dropped, left } = await this.days.dropBefore(before, async (day) => {
      if (keep.length > 0)
        await this.before.keep(await this.days.viewOf(day.name).ofSessionsSystemWide(keep));
    });
    let deleted = dropped;
    const day = left.find((d) => d.name === this.days.nameOf(before));
    if (day) deleted += await this.days.viewOf(day.name).deleteRecordedBeforeSystemWide(before, keep);
    return deleted + (await this.before.deleteRecordedBeforeSystemWide(before, keep));
  }

  /**
   * The retention sweep: the steps of sessions being deleted, from every collection (when the steps
   * cannot go by time: more sessions to spare than a range may name).
   */
  async deleteForSessionsSystemWide(sessionIds: readonly string[]): Promise<number> {
    if (sessionIds.length === 0) return 0;
    return (await this.eachCollection((r) => r.deleteForSessionsSystemWide(sessionIds))).reduce(
      (a, b) => a + b,
      0,
    );
  }
}
