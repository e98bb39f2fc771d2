import type { NatsConnection } from 'nats';
import type { EventContract, EventPayloadOf } from '@maskline/contracts';
import { tailEvents, type EventTail } from './event-tail';

export interface InvalidatedCacheOptions {
  /** How long an entry is trusted without word of a change (a missed word heals after this). */
  ttlMs: number;
  maxEntries: number;
}

/**
 * A per-replica cache of values another service owns, kept fresh by that service's change events
 * (`follow`) and, as a backstop, by a TTL. A load that overlapped an invalidation of its key may
 * have read the value from before the change: it is returned once and not kept (other keys'
 * changes do not matter to it).
 */
export class InvalidatedCache<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();
  /** Loads under way, per key: an invalidation of their key (or of everything) marks them stale. */
  private readonly loading = new Map<K, Set<{ stale: boolean }>>();
  /** The latest load of each key under way, which a concurrent miss of that key waits for. */
  private readonly shared = new Map<K, { token: { stale: boolean }; value: Promise<V> }>();
  private tail?: EventTail;

  constructor(
    private readonly options: InvalidatedCacheOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The cached value, or `load()`'s, kept for `ttlOf(value)` ms (0: not kept). Misses of one key at
   * once share one load (a replica just started asked the owner once per caller), unless the key
   * changed since that load began: then the next miss loads again.
   */
  async get(
    key: K,
    load: () => Promise<V>,
    ttlOf: (value: V) => number = () => this.options.ttlMs,
  ): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    const under = this.shared.get(key);
    if (under && !under.token.stale) return under.value;
    const token = { stale: false };
    const value = this.load(key, token, load, ttlOf);
    this.shared.set(key, { token, value });
    const forget = () => {
      if (this.shared.get(key)?.value === value) this.shared.delete(key);
    };
    value.then(forget, forget);
    return value;
  }

  private async load(
    key: K,
    token: { stale: boolean },
    load: () => Promise<V>,
    ttlOf: (value: V) => number,
  ): Promise<V> {
    const pending = this.loading.get(key) ?? new Set();
    pending.add(token);
    this.loading.set(key, pending);
    let value: V;
    try {
      value = await load();
    } finally {
      pending.delete(token);
      if (pending.size === 0 && this.loading.get(key) === pending) this.loading.delete(key);
    }
    const ttlMs = ttlOf(value);
    if (token.stale || ttlMs <= 0) return value;
    this.keep(key, value, ttlMs);
    return value;
  }

  /**
   * A value the owner announced (an event carrying it): newer than any load under way, which is
   * therefore not kept.
   */
  put(key: K, value: V, ttlMs = this.options.ttlMs): void {
    for (const token of this.loading.get(key) ?? []) token.stale = true;
    this.keep(key, value, ttlMs);
  }

  /** Keeps the entry, making room by dropping the oldest when full. */
  private keep(key: K, value: V, ttlMs: number): void {
    if (!this.entries.has(key) && this.entries.size >= this.options.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as K);
    }
    this.entries.set(key, { value, until: this.now() + ttlMs });
  }

  /** The cached value, if there is a live one; never loads. */
  peek(key: K): V | undefined {
    const hit = this.entries.get(key);
    return hit && hit.until > this.now() ? hit.value : undefined;
  }

  invalidate(key: K): void {
    for (const token of this.loading.get(key) ?? []) token.stale = true;
    this.entries.delete(key);
  }

  clear(): void {
    for (const tokens of this.loading.values()) for (const token of tokens) token.stale = true;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Keeps the cache in step with a change event: this replica tails it (an ordered consumer of its
   * own) and forgets the key each event names; if the tail breaks, word may be lost, so it forgets
   * everything and says so (`onLost`).
   */
  follow<C extends EventContract>(
    nc: NatsConnection,
    event: C,
    keyOf: (payload: EventPayloadOf<C>) => K,
    onLost: (err: unknown) => void,
  ): Promise<void> {
    return InvalidatedCache.followTogether([this], nc, event, keyOf, onLost);
  }

  /**
   * `follow` for several caches over the same keys (found and not-found answers kept apart, say):
   * one tail forgets the key in each.
   */
  static async followTogether<K, C extends EventContract>(
    caches: ReadonlyArray<InvalidatedCache<K, unknown>>,
    nc: NatsConnection,
    event: C,
    keyOf: (payload: EventPayloadOf<C>) => K,
    onLost: (err: unknown) => void,
  ): Promise<void> {
    const tail = await tailEvents(nc, {
      events: [event],
      onEvent: ({ payload }) => {
        const key = keyOf(payload as EventPayloadOf<C>);
        for (const cache of caches) cache.invalidate(key);
      },
      onError: (err) => {
        for (const cache of caches) cache.clear();
        onLost(err);
      },
    });
    for (const cache of caches) cache.tail = tail;
  }

  stopFollowing(): void {
    this.tail?.stop();
  }
}
