import { Inject, Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { KeyValueStores, SubaccountShareBuckets } from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import type { Principal } from './principal';

/** One entry per account that made requests in the last hour: its shared token bucket. */
export const ACCOUNT_RATE_BUCKET = 'maskline-account-rate';
/** One entry per subaccount that made requests in the last hour: its share's token bucket. */
export const SUBACCOUNT_RATE_BUCKET = 'maskline-subaccount-rate';

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
  private readonly buckets: SubaccountShareBuckets;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    kv: KeyValueStores,
    @Inject(CLOCK) clock: Clock,
  ) {
    this.buckets = new SubaccountShareBuckets(kv, {
      bucket: ACCOUNT_RATE_BUCKET,
      subaccountBucket: SUBACCOUNT_RATE_BUCKET,
      ratePerSecond: config.RATE_LIMIT_PER_SECOND,
      burst: config.RATE_LIMIT_BURST,
      percent: config.SUBACCOUNT_RATE_LIMIT_PERCENT,
      now: clock,
    });
  }

  async take(principal: Pick<Principal, 'accountId' | 'subaccountId'>): Promise<void> {
    const taken = await this.buckets.take(principal);
    if (taken.ok) return;
    const whose = principal.subaccountId ? 'its main account, with its subaccounts,' : 'this account';
    throw new CodedError(
      ErrorCodes.RATE_LIMITED,
      taken.by === 'subaccount'
        ? `too many requests: this subaccount may make ${this.buckets.subaccountRate} requests per second (SUBACCOUNT_RATE_LIMIT_PERCENT of its main account's)`
        : `too many requests: ${whose} may make ${this.config.RATE_LIMIT_PER_SECOND} requests per second`,
      { details: { retryAfterSeconds: taken.retryAfterSeconds } },
    );
  }
}
