import { Inject, Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { KeyValueStores, SharedTokenBuckets } from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

/** One entry per account that made requests in the last hour: its shared token bucket. */
export const ACCOUNT_RATE_BUCKET = 'maskline-account-rate';

/**
 * An account's request rate (RATE_LIMIT_PER_SECOND, bursts of RATE_LIMIT_BURST), the account's
 * whatever the number of gateway replicas: every replica leases from one token bucket per account
 * in NATS KV, a twentieth of a second's tokens at a time.
 */
@Injectable()
export class AccountRateLimiter {
  private readonly buckets: SharedTokenBuckets;

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
  }

  async take(accountId: string): Promise<void> {
    const taken = await this.buckets.take(accountId);
    if (taken.ok) return;
    throw new CodedError(
      ErrorCodes.RATE_LIMITED,
      `too many requests: this account may make ${this.config.RATE_LIMIT_PER_SECOND} requests per second`,
      { details: { retryAfterSeconds: taken.retryAfterSeconds } },
    );
  }
}
