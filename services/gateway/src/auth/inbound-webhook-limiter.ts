import { Inject, Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { KeyValueStores, SharedTokenBuckets } from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

/** One entry per account whose numbers were called or texted in the last hour: its shared token bucket. */
export const INBOUND_RATE_BUCKET = 'maskline-inbound-rate';

/**
 * The calls and texts providers start towards one account's numbers (INBOUND_RATE_LIMIT_PER_SECOND,
 * bursts of INBOUND_RATE_LIMIT_BURST), the account's whatever the number of gateway replicas. Taken
 * once a webhook's signature has verified with its number's credentials, and keyed by that number's
 * owner: only that account's own webhooks spend it.
 */
@Injectable()
export class InboundWebhookLimiter {
  private readonly buckets: SharedTokenBuckets;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    kv: KeyValueStores,
    @Inject(CLOCK) clock: Clock,
  ) {
    this.buckets = SharedTokenBuckets.perSecond(kv, {
      bucket: INBOUND_RATE_BUCKET,
      ratePerSecond: config.INBOUND_RATE_LIMIT_PER_SECOND,
      burst: config.INBOUND_RATE_LIMIT_BURST,
      now: clock,
    });
  }

  /** Spends one of the account's inbound webhooks, or fails with RATE_LIMITED. */
  async take(accountId: string): Promise<void> {
    const taken = await this.buckets.take(accountId);
    if (taken.ok) return;
    throw new CodedError(
      ErrorCodes.RATE_LIMITED,
      `too many inbound calls and messages: this account's numbers take ${this.config.INBOUND_RATE_LIMIT_PER_SECOND} per second`,
      { details: { retryAfterSeconds: taken.retryAfterSeconds } },
    );
  }
}
