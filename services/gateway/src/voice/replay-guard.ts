import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { KeyValueStores, createIfAbsent, kvEncode, type BucketOptions } from '@maskline/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

/** Webhooks already taken, across every gateway replica. */
export const WEBHOOK_REPLAY_BUCKET = 'maskline-webhook-replay';

/**
 * Remembers each signed webhook it lets through (Plivo's nonce; Twilio's call and stage) for
 * longer than any call context lives, so the same request a second time is refused whichever
 * replica it reaches. A create in KV is atomic: of two racing copies exactly one wins. Bounded
 * (its shares of NATS_STORAGE_BYTES and NATS_MEMORY_BYTES): full, it forgets its oldest first, so it always answers, for a
 * shorter window, and no tenant's flood of its own signed webhooks grows it (or NATS) without end.
 */
@Injectable()
export class ReplayGuard {
  private readonly options: BucketOptions;

  constructor(
    private readonly kv: KeyValueStores,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.options = {
      // An hour beyond the longest-lived call context: a follow-up is refused as expired or as replayed.
      ttlMs: (config.CALL_CONTEXT_TTL_SECONDS + 3600) * 1000,
      storageShare: 'webhookReplay',
    };
    this.kv.declare(WEBHOOK_REPLAY_BUCKET, this.options);
  }

  /** True the first time a key is seen; false for a replay. Throws when KV cannot say. */
  async firstTime(key: string): Promise<boolean> {
    const bucket = await this.kv.bucket(WEBHOOK_REPLAY_BUCKET, this.options);
    const digest = createHash('sha256').update(key).digest('base64url');
    return createIfAbsent(bucket, digest, kvEncode(1));
  }
}
