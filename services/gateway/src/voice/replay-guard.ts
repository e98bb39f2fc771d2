import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { KeyValueStores, createIfAbsent, kvDecode, kvEncode, type BucketOptions } from '@maskline/messaging';
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
    return createIfAbsent(bucket, digestOf(key), kvEncode(1));
  }

  /**
   * True the first time a key is seen, and again whenever it is seen for the same `id` (a provider
   * sending the very request again, as it does until answered); false when it was first seen for
   * another id: the same signed request made to say something else. Throws when KV cannot say.
   */
  async firstFor(key: string, id: string): Promise<boolean> {
    const bucket = await this.kv.bucket(WEBHOOK_REPLAY_BUCKET, this.options);
    const digest = digestOf(key);
    const mark = { id: digestOf(id) };
    if (await createIfAbsent(bucket, digest, kvEncode(mark))) return true;
    const seen = await bucket.get(digest);
    // Forgotten meanwhile (the bucket full, its oldest first): as if first seen.
    if (!seen || seen.operation !== 'PUT') return createIfAbsent(bucket, digest, kvEncode(mark));
    return kvDecode<{ id?: string }>(seen.value)?.id === mark.id;
  }
}

const digestOf = (s: string) => createHash('sha256').update(s).digest('base64url');
