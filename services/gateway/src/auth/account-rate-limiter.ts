import { Inject, Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

interface Bucket {
  tokens: number;
  at: number;
}

const MAX_ACCOUNTS = 100_000;

/**
 * A token bucket per account (RATE_LIMIT_PER_SECOND, RATE_LIMIT_BURST), per gateway replica: with
 * N replicas behind a balancer an account gets up to N times the rate.
 */
@Injectable()
export class AccountRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  take(accountId: string): void {
    const now = Date.now();
    const rate = this.config.RATE_LIMIT_PER_SECOND;
    const burst = this.config.RATE_LIMIT_BURST;
    const b = this.buckets.get(accountId) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    if (b.tokens < 1) {
      this.buckets.set(accountId, b);
      throw new CodedError(
        ErrorCodes.RATE_LIMITED,
        `too many requests: this account may make ${rate} requests per second`,
        {
          details: { retryAfterSeconds: Math.ceil((1 - b.tokens) / rate) },
        },
      );
    }
    b.tokens -= 1;
    if (!this.buckets.has(accountId) && this.buckets.size >= MAX_ACCOUNTS) {
      this.buckets.delete(this.buckets.keys().next().value as string);
    }
    this.buckets.set(accountId, b);
  }
}
