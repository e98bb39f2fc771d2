import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import {
  KeyValueStores,
  createIfAbsent,
  isWrongLastSequence,
  kvDecode,
  kvEncode,
  type BucketOptions,
} from '@maskline/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

/** Webhooks already taken, and what API requests' Idempotency-Keys were first used for, across every gateway replica. */
export const WEBHOOK_REPLAY_BUCKET = 'maskline-webhook-replay';

/**
 * How many requests saying something else a keyed API request's key answers (422) before it answers
 * every request so: each such answer tells whether a guess of what the first said was right.
 */
export const KEY_REUSES_MAX = 3;

/** What a bound Idempotency-Key's entry holds: digests of the first request, and the reuses refused. */
interface BoundKey {
  ids: string[];
  reuses: number;
  /**
   * Digests of the other requests refused (absent from an entry an earlier release wrote): one sent
   * again (a retry, or a refusal whose answer was lost) is refused again without counting twice.
   */
  others?: string[];
}

/**
 * Remembers each signed webhook it lets through (Plivo's nonce; Twilio's call and stage), and what
 * each API request with an Idempotency-Key first said (`bindRequest`), for longer than any call
 * context lives, so the same request a second time is refused whichever
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

  /**
   * Binds an API request's Idempotency-Key (`key`, namespaced by the caller) to what its first request
   * said, as `digests` (keyed digests of its content, one per key of a keyring that may rotate, so a
   * retry reaching a replica with another keyring matches on a key both hold): `same` when a request
   * says what the first said (or is the first), `other` when it says something else. After
   * KEY_REUSES_MAX others the key is `spent`: so answered to every request, its first's retry
   * included. Throws when KV cannot say (or the entry kept changing under it).
   */
  async bindRequest(key: string, digests: readonly string[]): Promise<'same' | 'other' | 'spent'> {
    const bucket = await this.kv.bucket(WEBHOOK_REPLAY_BUCKET, this.options);
    const entryKey = digestOf(`bound-key|${key}`);
    const ids = digests.map(digestOf);
    for (let look = 0; look < 3; look++) {
      if (await createIfAbsent(bucket, entryKey, kvEncode({ ids, reuses: 0 } satisfies BoundKey)))
        return 'same';
      const seen = await bucket.get(entryKey);
      // Forgotten meanwhile (the bucket full, its oldest first): as if first, the next look.
      if (!seen || seen.operation !== 'PUT') continue;
      const bound = kvDecode<BoundKey>(seen.value);
      const reuses = bound?.reuses ?? 0;
      if (reuses >= KEY_REUSES_MAX) return 'spent';
      if (bound?.ids?.some((id) => ids.includes(id))) return 'same';
      const others = bound?.others ?? [];
      // The same other request again tells nothing new: refused, not counted.
      if (others.some((id) => ids.includes(id))) return 'other';
      try {
        const next: BoundKey = { ids: bound?.ids ?? [], reuses: reuses + 1, others: [...others, ...ids] };
        await bucket.update(entryKey, kvEncode(next), seen.revision);
        return 'other';
      } catch (err) {
        // Changed meanwhile (another request's reuse counted): look again.
        if (!isWrongLastSequence(err)) throw err;
      }
    }
    throw new Error('the Idempotency-Key’s entry changed at every look');
  }
}

const digestOf = (s: string) => createHash('sha256').update(s).digest('base64url');
