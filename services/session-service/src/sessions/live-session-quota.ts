import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, ErrorCodes, SessionErrorCodes } from '@maskline/contracts';
import { KeyValueStores, SharedCounters, type CounterReading } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';

/** Each account's live sessions, counted: one key per account. */
export const LIVE_SESSIONS_BUCKET = 'maskline-live-sessions';

/**
 * A bound on the live sessions of one account (its subaccounts' included), in either API
 * (LIVE_SESSIONS_MAX): every call router keeps each live session in memory, so without it one
 * tenant's credentials could grow every router until it fell over, for every tenant. Counted in
 * NATS KV by compare-and-set (a count of the store per create would be a scan on FerretDB): a
 * creation takes one before it stores its session, and gives it back if the session was certainly
 * never stored; an expiry gives it back once the session has ended. What a crash leaves miscounted
 * (taken for a session whose write never landed, an end not counted) `LiveSessionRecount` corrects
 * from the store.
 */
@Injectable()
export class LiveSessionQuota {
  private readonly counters: SharedCounters;

  constructor(
    kv: KeyValueStores,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.counters = new SharedCounters(kv, LIVE_SESSIONS_BUCKET);
  }

  /** Every account's count as it stands: what a recount starts from. */
  counts(): Promise<Map<string, CounterReading>> {
    return this.counters.readAll();
  }

  /**
   * An account's count corrected by what the store held (`counted`, by a count begun after `before`
   * was read): SharedCounters.recount. The count now, and by how much this changed it.
   */
  correct(
    accountId: string,
    counted: number,
    before: CounterReading | undefined,
  ): Promise<{ value: number; corrected: number }> {
    return this.counters.recount(accountId, counted, before);
  }

  /** One of the account's live sessions taken, or LIVE_SESSIONS_LIMIT; 503 (retryable) when KV cannot be asked. */
  async take(accountId: string): Promise<void> {
    const limit = this.config.LIVE_SESSIONS_MAX;
    let added: boolean;
    try {
      ({ added } = await this.counters.add(accountId, 1, { atMost: limit }));
    } catch (err) {
      throw new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the session could not be created; try again', {
        retryable: true,
        cause: err,
      });
    }
    if (!added) {
      throw new CodedError(
        SessionErrorCodes.LIVE_SESSIONS_LIMIT,
        `this account holds ${limit} live sessions, the most it may; end some, or wait for them to expire`,
      );
    }
  }

  /**
   * One given back: a session ended, or a creation that failed before its session could be stored.
   * Never throws: one not given back is counted until the next recount.
   */
  async giveBack(accountId: string, why: string): Promise<void> {
    try {
      await this.counters.add(accountId, -1);
    } catch (err) {
      this.logger.warn(
        { err, why },
        'a live session not given back to its account’s count; the next recount corrects it',
      );
    }
  }
}
