import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import type { Connection, FilterQuery, Model } from 'mongoose';
import type { Logger } from 'pino';
import type { AccountScope } from '@maskline/contracts';
import { LOGGER } from '@maskline/observability';
import { DayPartitions } from '@maskline/persistence';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { PartyRedaction } from '../privacy/party-redaction';
import { EndedSessionParties } from './ended-session-parties.repository';
import type { EndedSessionPartiesDocument } from './ended-session-parties.schema';
import { EndedSessionRecords } from './ended-session-records';
import { LongLivedSessions, endedAtOf } from './long-lived-sessions.repository';
import { ENDED_SESSION_MODEL, EndedSessionSchema, newestFirst, type SessionDocument } from './session.schema';

/**
 * The history: sessions that ended, as they were when they ended, their parties' numbers as digests
 * (the numbers themselves are kept apart, `EndedSessionParties`, until redaction deletes them), then
 * deleted by the retention sweep. Written once per session by the expiry and read only by the API
 * and the sweeps; no hot path touches it, so its growth slows nothing a caller waits for. Every read
 * gives the session as the API shows it: with its numbers while they are kept.
 *
 * Kept one collection per UTC day of the session's end (`ended_sessions_<yyyymmdd>`, `DayPartitions`):
 * retention drops whole days and deletes a range of the cutoff's day alone, where each of its
 * statements was a scan of the whole history on FerretDB (the range delete 44 s, the Proxy slice 38 s
 * at 108,000 ended sessions, every sweep interval, while creates waited behind them). The sessions
 * whose call steps the sweep must spare are noted apart (`LongLivedSessions`). A read by id or a list
 * reads every day kept (on FerretDB the same scans as one collection of them all). The collection
 * kept before (`ended_sessions`) is still read and swept, and empties within the retention period;
 * only its records may hold numbers in clear (an earlier version's), so only it is redacted by update.
 */
@Injectable()
export class EndedSessionRepository implements OnModuleInit, OnModuleDestroy {
  private stopPreparing?: () => void;
  private readonly days: DayPartitions<SessionDocument, EndedSessionRecords>;
  /** The collection kept before records were kept by day: read and swept until empty. */
  private readonly before: EndedSessionRecords;

  constructor(
    @InjectConnection() connection: Connection,
    @InjectModel(ENDED_SESSION_MODEL) model: Model<SessionDocument>,
    private readonly redaction: PartyRedaction,
    private readonly parties: EndedSessionParties,
    private readonly longLived: LongLivedSessions,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.days = new DayPartitions(
      connection,
      model.collection.collectionName,
      EndedSessionSchema,
      (day) => new EndedSessionRecords(day),
    );
    this.before = new EndedSessionRecords(model);
  }

  /** Today's and tomorrow's collections at boot and every hour (an expiry then waits for no index build). */
  async onModuleInit(): Promise<void> {
    this.stopPreparing = await this.days.keepAhead(this.clock, (err) =>
      this.logger.warn(
        { err },
        "could not make the ended sessions' collections ahead; tried again within the hour",
      ),
    );
  }

  onModuleDestroy(): void {
    this.stopPreparing?.();
  }

  /** Every collection of records, the newest day first and the one kept before last. */
  private async newestFirst(): Promise<EndedSessionRecords[]> {
    const days = (await this.days.existing()).map((d) => this.days.viewOf(d.name));
    return [...days.reverse(), this.before];
  }

  /** An ended session visible to this scope. */
  async get(
    scope: AccountScope & Partial<SessionDocument>,
    sessionId: string,
  ): Promise<SessionDocument | null> {
    for (const records of await this.newestFirst()) {
      const record = await records.get(scope, sessionId);
      if (record) return withNumbers(record, await this.parties.of(record.accountId, sessionId));
    }
    return null;
  }

  async getByIdSystemWide(sessionId: string): Promise<SessionDocument | null> {
    for (const records of await this.newestFirst()) {
      const record = await records.getByIdSystemWide(sessionId);
      if (record) return withNumbers(record, await this.parties.of(record.accountId, sessionId));
    }
    return null;
  }

  /**
   * The first `limit` matches in the list order, and how many there are: records as stored (their
   * parties' digests); `shown` gives the ones a page keeps their numbers. Each collection gives its
   * first `limit`; a record in two (an expiry an earlier version recorded, recorded again by the
   * catch-up) is given once.
   */
  async firstPage(filter: FilterQuery<SessionDocument> & { accountId: string }, limit: number) {
    const seen = new Set<string>();
    const objects: SessionDocument[] = [];
    let total = 0;
    for (const records of await this.newestFirst()) {
      const page = await records.firstPage(filter, limit);
      total += page.total;
      for (const record of page.objects) {
        if (seen.has(record._id)) continue;
        seen.add(record._id);
        objects.push(record);
      }
    }
    return { objects: objects.sort(newestFirst).slice(0, limit), total };
  }

  /** An account's records as shown: with their parties' numbers while they are kept. */
  async shown(accountId: string, records: SessionDocument[]): Promise<SessionDocument[]> {
    const kept = await this.parties.ofMany(
      accountId,
      records.map((r) => r._id),
    );
    return records.map((r) => withNumbers(r, kept.get(r._id) ?? null));
  }

  /**
   * Records ended sessions (the sweep's catch-up of ended ones left in `sessions`): their numbers
   * and long-lived notes first, then the records, each in its end's day. Idempotent: a session
   * already recorded keeps its first record, and a retry after a crash between the writes finishes them.
   */
  async record(docs: SessionDocument[]): Promise<void> {
    await this.parties.keep(docs.map(partiesOf));
    await this.longLived.note(docs);
    const byDay = new Map<string, SessionDocument[]>();
    for (const doc of docs) {
      const day = this.days.nameOf(endedAtOf(doc));
      byDay.set(day, [...(byDay.get(day) ?? []), doc]);
    }
    for (const group of byDay.values()) {
      await (await this.days.viewFor(endedAtOf(group[0]!))).keep(group.map((d) => this.asRecorded(d)));
    }
  }

  /** One expiry's record, written with those of the expiries running with it; a second is a no-op. */
  async recordOne(doc: SessionDocument): Promise<void> {
    await this.parties.keepOne(partiesOf(doc));
    await this.longLived.note([doc]);
    await (await this.days.viewFor(endedAtOf(doc))).keepOne(this.asRecorded(doc));
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

  /** A Proxy session deleted through its API after it ended: it leaves the Service's list. */
  async markProxyDeleted(scope: AccountScope, sessionId: string, at: Date): Promise<void> {
    for (const records of await this.newestFirst()) {
      if (await records.markProxyDeleted(scope, sessionId, at)) return;
    }
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
    const before = await this.before.keptCreatedBeforeSystemWide(
      createdBefore,
      endedFrom,
      limit - noted.length,
    );
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
