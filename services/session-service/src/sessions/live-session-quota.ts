import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, ErrorCodes, SessionErrorCodes, subaccountShare } from '@maskline/contracts';
import { KeyValueStores, SharedCounters, type CounterReading } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';

/** Each account's live sessions, counted: one key per main account. */
export const LIVE_SESSIONS_BUCKET = 'maskline-live-sessions';
/** Each subaccount's live sessions, counted: one key per subaccount (its share of its account's). */
export const SUBACCOUNT_LIVE_SESSIONS_BUCKET = 'maskline-live-sessions-subaccounts';

/** Whose live session it is: its main account, and the subaccount it belongs to, if any. */
export interface LiveSessionOwner {
  accountId: string;
  subaccountId?: string | null;
}

/** The two counts a live session is in: its main account's, and its subaccount's when it has one. */
export const LIVE_SESSION_COUNT_KINDS = ['account', 'subaccount'] as const;
export type LiveSessionCountKind = (typeof LIVE_SESSION_COUNT_KINDS)[number];

/**
 * A bound on the live sessions of one account (its subaccounts' included), in either API
 * (LIVE_SESSIONS_MAX): every call router keeps each live session in memory, so without it one
 * tenant's credentials could grow every router until it fell over, for every tenant. A subaccount
 * (a reseller's customer) holds at most LIVE_SESSIONS_SUBACCOUNT_PERCENT of it, so one subaccount
 * cannot take the whole bound its main account and siblings share. Counted in NATS KV by
 * compare-and-set (a count of the store per create would be a scan on FerretDB): a creation takes
 * one before it stores its session, and gives it back if the session was certainly never stored; an
 * expiry gives it back once the session has ended. What a crash leaves miscounted (taken for a
 * session whose write never landed, an end not counted) `LiveSessionRecount` corrects from the store.
 */
@Injectable()
export class LiveSessionQuota {
  private readonly counters: Record<LiveSessionCountKind, SharedCounters>;

  constructor(
    kv: KeyValueStores,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.counters = {
      account: new SharedCounters(kv, LIVE_SESSIONS_BUCKET),
      subaccount: new SharedCounters(kv, SUBACCOUNT_LIVE_SESSIONS_BUCKET),
    };
  }

  /** The most live sessions one subaccount may hold: its share of its account's bound, at least one. */
  subaccountLimit(): number {
    return subaccountShare(this.config.LIVE_SESSIONS_MAX, this.config.LIVE_SESSIONS_SUBACCOUNT_PERCENT);
  }

  /** Every count of one kind as it stands, by key: what a recount starts from. */
  counts(kind: LiveSessionCountKind): Promise<Map<string, CounterReading>> {
    return this.counters[kind].readAll();
  }

  /**
   * A count (an account's, or a subaccount's) corrected by what the store held (`counted`, by a
   * count begun after `before` was read): SharedCounters.recount. The count now, and by how much
   * this changed it.
   */
  correct(
    kind: LiveSessionCountKind,
    key: string,
    counted: number,
    before: CounterReading | undefined,
  ): Promise<{ value: number; corrected: number }> {
    return this.counters[kind].recount(key, counted, before);
  }

  /**
   * One of the owner's live sessions taken (its subaccount's share first, then its account's), or
   * LIVE_SESSIONS_LIMIT naming which bound; 503 (retryable) when KV cannot be asked. Nothing stays
   * taken when it throws.
   */
  async take(owner: LiveSessionOwner): Promise<void> {
    const { accountId, subaccountId } = owner;
    const limit = this.config.LIVE_SESSIONS_MAX;
    if (subaccountId) {
      const share = this.subaccountLimit();
      if (!(await this.add('subaccount', subaccountId, share))) {
        throw new CodedError(
          SessionErrorCodes.LIVE_SESSIONS_LIMIT,
          `this subaccount holds ${share} live sessions, the most one subaccount may (${this.config.LIVE_SESSIONS_SUBACCOUNT_PERCENT} % of its account's ${limit}); end some, or wait for them to expire`,
        );
      }
    }
    let added: boolean;
    try {
      added = await this.add('account', accountId, limit);
    } catch (err) {
      if (subaccountId) await this.giveBackTo('subaccount', subaccountId, 'account count not asked');
      throw err;
    }
    if (!added) {
      if (subaccountId) await this.giveBackTo('subaccount', subaccountId, 'account at its bound');
      throw new CodedError(
        SessionErrorCodes.LIVE_SESSIONS_LIMIT,
        `this account holds ${limit} live sessions, the most it may; end some, or wait for them to expire`,
      );
    }
  }

  /**
   * One given back, to the account and to its subaccount: a session ended, or a creation that
   * failed before its session could be stored. Never throws: one not given back is counted until
   * the next recount.
   */
  async giveBack(owner: LiveSessionOwner, why: string): Promise<void> {
    await this.giveBackTo('account', owner.accountId, why);
    if (owner.subaccountId) await this.giveBackTo('subaccount', owner.subaccountId, why);
  }

  /** Whether one was added under `atMost`; 503 (retryable) when KV cannot be asked. */
  private async add(kind: LiveSessionCountKind, key: string, atMost: number): Promise<boolean> {
    try {
      return (await this.counters[kind].add(key, 1, { atMost })).added;
    } catch (err) {
      throw new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the session could not be created; try again', {
        retryable: true,
        cause: err,
      });
    }
  }

  private async giveBackTo(kind: LiveSessionCountKind, key: string, why: string): Promise<void> {
    try {
      await this.counters[kind].add(key, -1);
    } catch (err) {
      this.logger.warn(
        { err, why, kind },
        'a live session not given back to its count; the next recount corrects it',
      );
    }
  }
}
