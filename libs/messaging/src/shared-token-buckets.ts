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
  /** The shared bucket was empty: refuse locally until then. */
  refusedUntil?: number;
}

const CAS_TRIES = 8;
/** After KV failed, how long a replica limits on its own before it asks KV again. */
const SHARED_DOWN_MS = 5000;
const MAX_KEYS = 100_000;
/**
 * An idle key's entry goes after this at least, and after its bucket would be full again anyway
 * (`idleTtlMs`): forgotten sooner, a slow bucket (a share of hours) would be handed a fresh burst.
 */
const IDLE_TTL_MS = 3600_000;

/** How long an idle key's entry is kept: until its bucket would be full again, an hour at least. */
export function idleTtlMs(rule: TokenBucketRule): number {
  return Math.max(IDLE_TTL_MS, Math.ceil((rule.burst / rule.ratePerSecond) * 1000));
}

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
  private sharedDownUntil = 0;

  constructor(
    private readonly kv: KeyValueStores,
    private readonly options: SharedTokenBucketsOptions,
  ) {
    kv.declare(options.bucket, { ttlMs: idleTtlMs(options) });
  }

  /**
   * A limit of `ratePerSecond` per key (bursts of `burst`), whatever the number of replicas: each
   * replica leases a twentieth of a second's tokens at a time (at least one, at most the burst) and
   * drops what it has not spent after a second.
   */
  static perSecond(
    kv: KeyValueStores,
    rule: { bucket: string; ratePerSecond: number; burst: number; now: () => number },
  ): SharedTokenBuckets {
    return new SharedTokenBuckets(kv, {
      ...rule,
      leaseSize: Math.max(1, Math.min(rule.burst, Math.ceil(rule.ratePerSecond / 20))),
      leaseMs: 1000,
    });
  }

  /**
   * Whether this replica refused the key a moment ago and would refuse it again now, without asking
   * anyone: a caller can skip work it would do before `take` (a replay guard's write, say) for a
   * key over its limit.
   */
  refusing(key: string): boolean {
    const until = this.leases.get(key)?.refusedUntil;
    return until !== undefined && until > this.options.now();
  }

  async take(key: string): Promise<TakeResult> {
    this.waiting.set(key, (this.waiting.get(key) ?? 0) + 1);
    try {
      // A few rounds at most: a lease another request emptied first is renewed, not chased for ever.
      for (let round = 0; round < 3; round++) {
        const now = this.options.now();
        const lease = this.leases.get(key);
        if (lease && lease.until > now && lease.tokens >= 1) {
          lease.tokens -= 1;
          return { ok: true };
        }
        // Refused a moment ago: refused again, here, until the next token is due (an account over
        // its limit costs the shared store nothing).
        if (lease?.refusedUntil !== undefined && lease.refusedUntil > now) {
          return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((lease.refusedUntil - now) / 1000)) };
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
      return { ok: false, retryAfterSeconds: 1 };
    } finally {
      const left = (this.waiting.get(key) ?? 1) - 1;
      if (left > 0) this.waiting.set(key, left);
      else this.waiting.delete(key);
    }
  }

  /** A new lease for `key`, sized for the requests waiting on it (at least `leaseSize`). */
  private async refresh(key: string): Promise<TakeResult> {
    const want = Math.max(this.options.leaseSize, this.waiting.get(key) ?? 0);
    let outcome: { granted: number; retryAfterSeconds: number; state: TokenBucketState };
    if (this.options.now() < this.sharedDownUntil) {
      outcome = this.leaseLocally(key, this.options.now(), want);
    } else {
      try {
        outcome = await this.leaseFromShared(await this.bucket(), kvToken(key), this.options.now(), want);
      } catch (err) {
        if (isWrongLastSequence(err)) return { ok: false, retryAfterSeconds: 1 };
        // KV unreachable: this replica limits on its own for a while, without waiting on KV each time.
        this.sharedDownUntil = this.options.now() + SHARED_DOWN_MS;
        outcome = this.leaseLocally(key, this.options.now(), want);
      }
    }
    // Timed from now, after the wait: a slow store must not hand out a lease already over.
    const at = this.options.now();
    if (outcome.granted < 1) {
      const untilNextToken = ((1 - outcome.state.tokens) / this.options.ratePerSecond) * 1000;
      this.remember(key, { tokens: 0, until: at, refusedUntil: at + Math.max(50, untilNextToken) });
      return { ok: false, retryAfterSeconds: outcome.retryAfterSeconds };
    }
    this.remember(key, { tokens: outcome.granted, until: at + this.options.leaseMs });
    return { ok: true };
  }

  private bucket(): Promise<KV> {
    return this.kv.bucket(this.options.bucket, { ttlMs: idleTtlMs(this.options) });
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
