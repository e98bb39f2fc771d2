import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { PinAttempt, PinAttemptOutcome } from '@maskline/contracts';
import { keyedDigest } from '@maskline/crypto';
import { admitHistoryRead, maskPhone } from '@maskline/observability';
import { historyReadOptions, historySweepQueries, isDuplicateKeyError } from '@maskline/persistence';
import { BackgroundWork } from '../background/background-work';
import { PIN_AUTH_CONFIG, type PinAuthConfig } from '../config/pin-auth.config';
import { PinAttemptDocument } from './pin-attempt.schema';

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
 */
@Injectable()
export class PinAttemptLog {
  private readonly callerDigestKey: Buffer;

  constructor(
    @InjectModel(PinAttemptDocument.name) private readonly model: Model<PinAttemptDocument>,
    private readonly background: BackgroundWork,
    @Inject(PIN_AUTH_CONFIG) config: PinAuthConfig,
  ) {
    this.callerDigestKey = config.PIN_DIGEST_KEY;
  }

  recordSoon(entry: PinEntry): void {
    const doc: PinAttemptDocument = {
      _id: `${entry.callId}:${entry.outcome}:${entry.attempt}`,
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
    void this.background.run(
      async () => {
        try {
          await this.model.create(doc);
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
        }
      },
      // Its own queue: a slow record never holds back the call's status events.
      { what: 'pin attempt record', key: `pin-attempt:${entry.callId}` },
    );
  }

  /** The entries that matched the session, and every other entry of the same calls, oldest first. */
  async ofSession(accountId: string, sessionId: string): Promise<PinAttempt[]> {
    await admitHistoryRead();
    const matched = await this.model
      .find({ accountId, sessionId }, { callId: 1 })
      .setOptions(historyReadOptions(this.model))
      .limit(SESSION_READ_MAX)
      .lean()
      .exec();
    const callIds = [...new Set(matched.map((m) => m.callId))];
    if (callIds.length === 0) return [];
    const docs = await this.model
      .find({ accountId, callId: { $in: callIds } })
      .setOptions(historyReadOptions(this.model))
      .limit(SESSION_READ_MAX)
      .lean()
      .exec();
    return docs.map(toAttempt).sort((a, b) => a.at.localeCompare(b.at) || a.attempt - b.attempt);
  }

  /** An account's entries since a time (for the summary; at most WINDOW_READ_MAX, newest kept; only what it counts). */
  async since(
    accountId: string,
    since: Date,
  ): Promise<Pick<PinAttempt, 'at' | 'outcome' | 'virtualNumber' | 'callerKey' | 'callerMasked'>[]> {
    await admitHistoryRead();
    const docs = await this.model
      .find(
        { accountId, at: { $gte: since } },
        { at: 1, outcome: 1, virtualNumber: 1, callerKey: 1, callerMasked: 1 },
      )
      .setOptions(historyReadOptions(this.model))
      .sort({ at: -1 })
      .limit(WINDOW_READ_MAX)
      .lean()
      .exec();
    return docs.map((d) => ({
      at: d.at.toISOString(),
      outcome: d.outcome,
      virtualNumber: d.virtualNumber,
      callerKey: d.callerKey,
      callerMasked: d.callerMasked,
    }));
  }

  /** Deletes the entries older than `cutoff`, every account's, as one range (slices of it when the store refuses one that large); returns how many. */
  purgeSystemWide(cutoff: Date): Promise<number> {
    return historySweepQueries(this.model).deleteDue({}, 'at', cutoff);
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
