import { Inject, Injectable } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import type { Connection, Model } from 'mongoose';
import type { Logger } from 'pino';
import { sessionRecordsFrom, type PinAttempt, type PinAttemptOutcome } from '@maskline/contracts';
import { keyedDigest } from '@maskline/crypto';
import { LOGGER, maskPhone } from '@maskline/observability';
import { DayKeptHistory } from '@maskline/persistence';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { BackgroundWork } from '../background/background-work';
import { PIN_AUTH_CONFIG, type PinAuthConfig } from '../config/pin-auth.config';
import { PinAttemptRecords } from './pin-attempt-records';
import { PinAttemptDocument, PinAttemptSchema } from './pin-attempt.schema';

export interface PinEntry {
  accountId: string;
  virtualNumber: string;
  callerNumber: string;
  callId: string;
  attempt: number;
  outcome: PinAttemptOutcome;
  lockReason?: 'call' | 'caller' | 'number';
  sessionId: string | null;
  at: Date;
}

/** The most entries one read returns: a session's calls, or an account's window for the summary. */
const SESSION_READ_MAX = 500;
export const WINDOW_READ_MAX = 20_000;

/**
 * The record of PIN entries the console reads. Written after the reply (BackgroundWork), so PIN
 * verification never waits for it; read only by the console's queries, never on a call's path.
 * Kept one collection per UTC day of the entry (`pin_attempts_<yyyymmdd>`, `DayKeptHistory`):
 * retention drops whole days, where a range delete scanned every entry kept on FerretDB (2.2 s a
 * statement at 100,000 sessions' history). The collection kept before days (`pin_attempts`) is still
 * read and swept, and empties itself within PIN_ATTEMPT_RETENTION_DAYS.
 */
@Injectable()
export class PinAttemptLog extends DayKeptHistory<PinAttemptDocument, PinAttemptRecords> {
  private readonly callerDigestKey: Buffer;

  constructor(
    @InjectConnection() connection: Connection,
    @InjectModel(PinAttemptDocument.name) model: Model<PinAttemptDocument>,
    private readonly background: BackgroundWork,
    @Inject(PIN_AUTH_CONFIG) config: PinAuthConfig,
    @Inject(CLOCK) clock: Clock,
    @Inject(LOGGER) logger: Logger,
  ) {
    super(connection, model, PinAttemptSchema, (day) => new PinAttemptRecords(day), {
      clock,
      onFailure: (err) =>
        logger.warn(
          { err },
          "could not make the PIN entries' collections ahead; tried again within the hour",
        ),
    });
    this.callerDigestKey = config.PIN_DIGEST_KEY;
  }

  /** Writes the entry soon, after the reply (BackgroundWork: tried again, then logged and counted if lost). */
  recordSoon(entry: PinEntry): void {
    void this.background.run(
      () => this.record(entry),
      // Its own queue: a slow record never holds back the call's status events.
      { what: 'pin attempt record', key: `pin-attempt:${entry.virtualNumber}:${entry.callId}` },
    );
  }

  /** Writes the entry in its day's collection now, once (written again, it is already there). */
  async record(entry: PinEntry): Promise<void> {
    const doc: PinAttemptDocument = {
      // Scoped like the call's status events: another tenant's webhook may carry the same call id.
      _id: `${entry.accountId}:${entry.virtualNumber}:${entry.callId}:${entry.outcome}:${entry.attempt}`,
      accountId: entry.accountId,
      virtualNumber: entry.virtualNumber,
      // Grouped per account: the same caller has unrelated keys in two accounts.
      callerKey: keyedDigest(this.callerDigestKey, 'pin-caller', entry.accountId, entry.callerNumber).slice(
        0,
        16,
      ),
      callerMasked: String(maskPhone(entry.callerNumber)),
      callId: entry.callId,
      outcome: entry.outcome,
      lockReason: entry.lockReason ?? null,
      attempt: entry.attempt,
      sessionId: entry.sessionId,
      at: entry.at,
    };
    await (await this.days.viewFor(entry.at)).record(doc);
  }

  /**
   * The entries that matched the session, and every other entry of the same calls, oldest first; an
   * entry kept twice, once. Read from the days since the session began, by its id
   * (`sessionRecordsFrom`: a call's entries may straddle midnight, never precede the session by more
   * than its call), and the collection kept before.
   */
  async ofSession(accountId: string, sessionId: string): Promise<PinAttempt[]> {
    const all = [this.before, ...(await this.dayViewsOfOne(sessionRecordsFrom(sessionId)))];
    const callIds = await this.readUpTo(all, SESSION_READ_MAX, (records, left) =>
      records.callsOfSession(accountId, sessionId, left),
    );
    if (callIds.length === 0) return [];
    const calls = [...new Set(callIds)];
    const docs = await this.readUpTo(all, SESSION_READ_MAX, (records, left) =>
      records.ofCalls(accountId, calls, left),
    );
    const once = new Map(docs.map((d) => [d._id, d]));
    return [...once.values()]
      .map(toAttempt)
      .sort((a, b) => a.at.localeCompare(b.at) || a.attempt - b.attempt);
  }

  /** An account's entries since a time (for the summary; at most WINDOW_READ_MAX, newest kept; only what it counts): the days since then, newest first. */
  async since(
    accountId: string,
    since: Date,
  ): Promise<Pick<PinAttempt, 'at' | 'outcome' | 'virtualNumber' | 'callerKey' | 'callerMasked'>[]> {
    const docs = await this.readUpTo(
      [...(await this.dayViews(since)).reverse(), this.before],
      WINDOW_READ_MAX,
      (records, left) => records.since(accountId, since, left),
    );
    // An entry kept twice (written again across midnight, or by an earlier version during an upgrade) counts once.
    const once = new Map(docs.map((d) => [d._id, d]));
    return [...once.values()]
      .sort((a, b) => b.at.getTime() - a.at.getTime())
      .map((d) => ({
        at: d.at.toISOString(),
        outcome: d.outcome,
        virtualNumber: d.virtualNumber,
        callerKey: d.callerKey,
        callerMasked: d.callerMasked,
      }));
  }

  /** Retention: the days wholly before `cutoff` dropped, then a range of the day it falls in and of the collection kept before; how many went. */
  purgeSystemWide(cutoff: Date): Promise<number> {
    return this.dropAndTrim(cutoff, (records) => records.purgeSystemWide(cutoff));
  }
}

function toAttempt(d: PinAttemptDocument): PinAttempt {
  return {
    at: d.at.toISOString(),
    callId: d.callId,
    virtualNumber: d.virtualNumber,
    callerMasked: d.callerMasked,
    callerKey: d.callerKey,
    outcome: d.outcome,
    lockReason: d.lockReason ?? null,
    attempt: d.attempt,
    sessionId: d.sessionId ?? null,
  };
}
