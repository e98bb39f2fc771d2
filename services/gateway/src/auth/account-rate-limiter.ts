import { Inject, Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { KeyValueStores, SharedTokenBuckets } from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import type { Principal } from './principal';

/** One entry per account that made requests in the last hour: its shared token bucket. */
export const ACCOUNT_RATE_BUCKET = 'maskline-account-rate';
/** One entry per subaccount that made requests in the last hour: its share's token bucket. */
export const SUBACCOUNT_RATE_BUCKET = 'maskline-subaccount-rate';

/** A subaccount's share of a main account's figure (rate or burst), rounded down but at least one (so all of a rate of 1). */
export function subaccountShare(ofMain: number, percent: number): number {
  return Math.max(1, Math.floor((ofMain * percent) / 100));
}

/**
 * An account's request rate (RATE_LIMIT_PER_SECOND, bursts of RATE_LIMIT_BURST), the account's
 * whatever the number of gateway replicas: every replica leases from one token bucket per account
 * in NATS KV, a twentieth of a second's tokens at a time. A subaccount's requests count to its main
 * account's, and first to a bucket of its own holding SUBACCOUNT_RATE_LIMIT_PERCENT of that rate and
 * burst: one subaccount over its share is refused before it spends its main account's tokens, so the
 * main account and its other subaccounts keep the rest.
 */
@Injectable()
export class AccountRateLimiter {
  private readonly buckets: SharedTokenBuckets;
  private readonly subaccountBuckets: SharedTokenBuckets;
  private readonly subaccountRate: number;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    kv: KeyValueStores,
    @Inject(CLOCK) clock: Clock,
  ) {
    this.buckets = SharedTokenBuckets.perSecond(kv, {
      bucket: ACCOUNT_RATE_BUCKET,
      ratePerSecond: config.RATE_LIMIT_PER_SECOND,
      burst: config.RATE_LIMIT_BURST,
      now: clock,
    });
    this.subaccountRate = subaccountShare(config.RATE_LIMIT_PER_SECOND, config.SUBACCOUNT_RATE_LIMIT_PERCENT);
    this.subaccountBuckets = SharedTokenBuckets.perSecond(kv, {
      bucket: SUBACCOUNT_RATE_BUCKET,
      ratePerSecond: this.subaccountRate,
      burst: subaccountShare(config.RATE_LIMIT_BURST, config.SUBACCOUNT_RATE_LIMIT_PERCENT),
      now: clock,
    });
  }

  async take(principal: Pick<Principal, 'accountId' | 'subaccountId'>): Promise<void> {
    if (principal.subaccountId) {
      const share = await this.subaccountBuckets.take(principal.subaccountId);
      if (!share.ok) {
        throw new CodedError(
          ErrorCodes.RATE_LIMITED,
          `too many requests: this subaccount may make ${this.subaccountRate} requests per second (SUBACCOUNT_RATE_LIMIT_PERCENT of its main account's)`,
          { details: { retryAfterSeconds: share.retryAfterSeconds } },
        );
      }
    }
    const taken = await this.buckets.take(principal.accountId);
    if (taken.ok) return;
    const whose = principal.subaccountId ? 'its main account, with its subaccounts,' : 'this account';
    throw new CodedError(
      ErrorCodes.RATE_LIMITED,
      `too many requests: ${whose} may make ${this.config.RATE_LIMIT_PER_SECOND} requests per second`,
      { details: { retryAfterSeconds: taken.retryAfterSeconds } },
    );
  }
}
