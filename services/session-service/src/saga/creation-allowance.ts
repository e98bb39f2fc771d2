import { Inject, Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes, natsEntryBound } from '@maskline/contracts';
import {
  KeyValueStores,
  SubaccountShareBuckets,
  shareOfRoomRule,
  type AllowanceOwner,
} from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { VERDICT_TTL_MS } from './creation-verdicts';

/** Each account's creation allowance (a token bucket): one key per main account. */
export const CREATION_ALLOWANCE_BUCKET = 'maskline-creation-allowance';
/** Each subaccount's share of it: one key per subaccount. */
export const SUBACCOUNT_CREATION_ALLOWANCE_BUCKET = 'maskline-creation-allowance-subaccounts';

/**
 * One account's allowance of creations: `percent` of the room for creation verdicts (`room`, two
 * hours of creations), within a reservation's lifetime.
 */
export function creationAllowanceRule(
  room: number,
  percent: number,
): { ratePerSecond: number; burst: number } {
  return shareOfRoomRule(room, percent, VERDICT_TTL_MS);
}

/**
 * How fast one account may create sessions, whatever the number of session-service replicas
 * (`SubaccountShareBuckets`, kept in NATS KV). Every creation reserves room for its verdict for two
 * hours (`CreationVerdicts.reserve`), and that room is every tenant's: full, it refuses every
 * creation. Without a share, one tenant's credentials creating (and ending) sessions at its API
 * limit filled the room at the defaults in under two hours, and every other tenant's creations were
 * refused until it aged out. An account takes at most CREATIONS_ACCOUNT_PERCENT of it, a subaccount
 * CREATIONS_SUBACCOUNT_PERCENT of its account's share; a creation past it is refused with 429 and
 * Retry-After, before it holds anything.
 */
@Injectable()
export class CreationAllowance {
  readonly rule: { ratePerSecond: number; burst: number };
  private readonly buckets: SubaccountShareBuckets;

  constructor(
    kv: KeyValueStores,
    @Inject(SESSION_SERVICE_CONFIG) config: SessionServiceConfig,
    @Inject(CLOCK) now: Clock,
  ) {
    const room = natsEntryBound('creationReservations', config.NATS_STORAGE_BYTES, config.NATS_MEMORY_BYTES);
    this.rule = creationAllowanceRule(room, config.CREATIONS_ACCOUNT_PERCENT);
    this.buckets = new SubaccountShareBuckets(kv, {
      bucket: CREATION_ALLOWANCE_BUCKET,
      subaccountBucket: SUBACCOUNT_CREATION_ALLOWANCE_BUCKET,
      ...this.rule,
      percent: config.CREATIONS_SUBACCOUNT_PERCENT,
      now,
    });
  }

  /** One creation of the owner's, or SESSION_CREATIONS_LIMITED (429) naming whose share ran out. */
  async take(owner: AllowanceOwner): Promise<void> {
    const taken = await this.buckets.take(owner);
    if (taken.ok) return;
    const [whose, rate, setting] =
      taken.by === 'subaccount'
        ? // Its own rate is at least one a second; its main account's binds it too.
          [
            'this subaccount',
            Math.min(this.buckets.subaccountRate, this.rule.ratePerSecond),
            'CREATIONS_SUBACCOUNT_PERCENT',
          ]
        : [
            owner.subaccountId ? 'the main account, with its subaccounts,' : 'this account',
            this.rule.ratePerSecond,
            'CREATIONS_ACCOUNT_PERCENT',
          ];
    throw new CodedError(
      ErrorCodes.SESSION_CREATIONS_LIMITED,
      `too many sessions created: ${whose} may create ${rateInWords(rate)} a second on average ` +
        `(${setting}: its share of the room for two hours of creations); retry after ${taken.retryAfterSeconds} s`,
      { details: { retryAfterSeconds: taken.retryAfterSeconds } },
    );
  }
}

function rateInWords(rate: number): string {
  return rate >= 10 ? rate.toFixed(0) : rate.toPrecision(2);
}
