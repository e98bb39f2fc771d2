import type { KV } from 'nats';
import { withdraw, type TokenBucketRule, type TokenBucketState } from '@maskline/resilience';
import { KeyValueStores, isWrongLastSequence, kvDecode, kvEncode, kvToken } from './key-value-stores';

export interface SharedTokenBucketsOptions extends TokenBucketRule {
  /** The KV bucket that holds one entry per key. */
  bucket: string;
  /** Tokens a replica takes from the shared bucket at once (it spends them locally). */
  leaseSize: number;
  /** Unspent leased tokens are dropped after this (so no replica sits on a share it does not use). */
  leaseMs: number;
  now: () => number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Lease {
  tokens: number;
  until: number;
}

const CAS_TRIES = 8;
const MAX_KEYS = 100_000;
/** An idle key's entry goes after this; a bucket idle that long is full again anyway. */
const IDLE_TTL_MS = 3600_000;

/**
 * Token buckets shared by every replica, kept in NATS KV: a key's rate is the key's, whatever the
 * number of replicas. A replica leases a few tokens at a time with a compare-and-set on the key's
 * entry and spends them locally, so the store sees one write per `leaseSize` requests. A token is
 * spent at most once across replicas; leased tokens a replica does not spend within `leaseMs` are
 * lost, never handed out twice, so the shared limit errs low, by at most one lease per replica.
 * If KV cannot be reached the replica limits on its own (the per-replica rule of old) until it can.
 */
export class SharedTokenBuckets {
  private readonly leases = new Map<string, Lease>();
  private readonly local = new Map<string, TokenBucketState>();
  private readonly refreshing = new Map<string, Promise<TakeResult>>();
  private readonly waiting = new Map<string, number>();

  constructor(
    private readonly kv: KeyValueStores,
    private readonly options: SharedTokenBucketsOptions,
  ) {}

  async take(key: string): Promise<TakeResult> {
    this.waiting.set(key, (this.waiting.get(key) ?? 0) + 1);
    try {
      for (;;) {
        const lease = this.leases.get(key);
        if (lease && lease.until > this.options.now() && lease.tokens >= 1) {
          lease.tokens -= 1;
          return { ok: true };
        }
        // One lease request per key at a time on this replica: a burst of requests shares it.
        let refreshing = this.refreshing.get(key);
        if (!refreshing) {
          refreshing = this.refresh(key).finally(() => this.refreshing.delete(key));
          this.refreshing.set(key, refreshing);
        }
        const refreshed = await refreshing;
        if (!refreshed.ok) return refreshed;
      }
    } finally {
      const left = (this.waiting.get(key) ?? 1) - 1;
      if (left > 0) this.waiting.set(key, left);
      else this.waiting.delete(key);
    }
  }

  /** A new lease for `key`, sized for the requests waiting on it (at least `leaseSize`). */
  private async refresh(key: string): Promise<TakeResult> {
    const now = this.options.now();
    const want = Math.max(this.options.leaseSize, this.waiting.get(key) ?? 0);
    let outcome: { granted: number; retryAfterSeconds: number };
    try {
      outcome = await this.leaseFromShared(await this.bucket(), kvToken(key), now, want);
    } catch (err) {
      if (isWrongLastSequence(err)) return { ok: false, retryAfterSeconds: 1 };
      outcome = this.leaseLocally(key, now, want);
    }
    if (outcome.granted < 1) return { ok: false, retryAfterSeconds: outcome.retryAfterSeconds };
    this.remember(key, { tokens: outcome.granted, until: now + this.options.leaseMs });
    return { ok: true };
  }

  private bucket(): Promise<KV> {
    return this.kv.bucket(this.options.bucket, { ttlMs: IDLE_TTL_MS });
  }

  private async leaseFromShared(kv: KV, key: string, now: number, want: number) {
    for (let tries = 1; ; tries++) {
      const entry = await kv.get(key);
      const current = entry?.operation === 'PUT' ? kvDecode<TokenBucketState>(entry.value) : null;
      const outcome = withdraw(current, this.options, now, want);
      if (outcome.granted < 1) return outcome;
      try {
        if (entry) await kv.update(key, kvEncode(outcome.state), entry.revision);
        else await kv.create(key, kvEncode(outcome.state));
        return outcome;
      } catch (err) {
        // Another replica leased meanwhile: read again. Past a few tries the key is that busy.
        if (!isWrongLastSequence(err) || tries >= CAS_TRIES) throw err;
      }
    }
  }

  private leaseLocally(key: string, now: number, want: number) {
    const outcome = withdraw(this.local.get(key) ?? null, this.options, now, want);
    this.local.set(key, outcome.state);
    if (this.local.size > MAX_KEYS) this.local.delete(this.local.keys().next().value as string);
    return outcome;
  }

  private remember(key: string, lease: Lease): void {
    this.leases.delete(key);
    this.leases.set(key, lease);
    if (this.leases.size > MAX_KEYS) this.leases.delete(this.leases.keys().next().value as string);
  }
}
