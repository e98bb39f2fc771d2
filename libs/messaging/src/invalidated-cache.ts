import type { NatsConnection } from 'nats';
import type { EventContract, EventPayloadOf } from '@maskline/contracts';
import { FairShares } from '@maskline/resilience';
import { tailEvents, type EventTail } from './event-tail';

export interface InvalidatedCacheOptions<K = unknown, V = unknown> {
  /** How long an entry is trusted without word of a change (a missed word heals after this). */
  ttlMs: number;
  maxEntries: number;
  /**
   * The tenant an entry is of, where one is known: then the entries are kept in fair shares
   * (`FairShares`), so a tenant that fills the cache pushes out its own entries first, not other
   * tenants'. Without it, the oldest entry goes when the cache is full.
   */
  ownerOf?: (key: K, value: V) => string;
}

interface Entry<V> {
  value: V;
  until: number;
}

/** Where a cache keeps its entries: `maxEntries` at most. */
interface Entries<K, V> {
  get(key: K): Entry<V> | undefined;
  set(key: K, entry: Entry<V>): void;
  delete(key: K): void;
  clear(): void;
  readonly size: number;
}

/** The oldest entry goes when full. */
class OldestFirst<K, V> implements Entries<K, V> {
  private readonly map = new Map<K, Entry<V>>();
  constructor(private readonly max: number) {}
  get(key: K) {
    return this.map.get(key);
  }
  set(key: K, entry: Entry<V>) {
    if (!this.map.has(key) && this.map.size >= this.max) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, entry);
  }
  delete(key: K) {
    this.map.delete(key);
  }
  clear() {
    this.map.clear();
  }
  get size() {
    return this.map.size;
  }
}

/** Fair shares by owner: the owner holding the most loses its oldest when full. */
class ByOwner<K, V> implements Entries<K, V> {
  private readonly owners = new Map<K, string>();
  private readonly shares: FairShares<Entry<V>, K>;
  constructor(
    max: number,
    private readonly ownerOf: (key: K, value: V) => string,
  ) {
    this.shares = new FairShares<Entry<V>, K>(max, (_owner, key) => this.owners.delete(key));
  }
  get(key: K) {
    const owner = this.owners.get(key);
    return owner === undefined ? undefined : this.shares.get(owner, key);
  }
  set(key: K, entry: Entry<V>) {
    const owner = this.ownerOf(key, entry.value);
    const before = this.owners.get(key);
    if (before !== undefined && before !== owner) this.shares.delete(before, key);
    this.owners.set(key, owner);
    this.shares.set(owner, key, entry);
  }
  delete(key: K) {
    const owner = this.owners.get(key);
    if (owner === undefined) return;
    this.owners.delete(key);
    this.shares.delete(owner, key);
  }
  clear() {
    this.owners.clear();
    this.shares.clear();
  }
  get size() {
    return this.shares.size;
  }
}

/**
 * A per-replica cache of values another service owns, kept fresh by that service's change events
 * (`follow`) and, as a backstop, by a TTL. A load that overlapped an invalidation of its key may
 * have read the value from before the change: it is returned once and not kept (other keys'
 * changes do not matter to it).
 */
export class InvalidatedCache<K, V> {
  private readonly entries: Entries<K, V>;
  /** Loads under way, per key: an invalidation of their key (or of everything) marks them stale. */
  private readonly loading = new Map<K, Set<{ stale: boolean }>>();
  /** The latest load of each key under way, which a concurrent miss of that key waits for. */
  private readonly shared = new Map<K, { token: { stale: boolean }; value: Promise<V> }>();
  private tail?: EventTail;

  private readonly ttlMs: number;

  constructor(
    options: InvalidatedCacheOptions<K, V>,
    private readonly now: () => number = Date.now,
  ) {
    this.ttlMs = options.ttlMs;
    this.entries = options.ownerOf
      ? new ByOwner<K, V>(options.maxEntries, options.ownerOf)
      : new OldestFirst<K, V>(options.maxEntries);
  }

  /**
   * The cached value, or `load()`'s, kept for `ttlOf(value)` ms (0: not kept). Misses of one key at
   * once share one load (a replica just started asked the owner once per caller), unless the key
   * changed since that load began: then the next miss loads again.
   */
  async get(key: K, load: () => Promise<V>, ttlOf: (value: V) => number = () => this.ttlMs): Promise<V> {
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
  put(key: K, value: V, ttlMs = this.ttlMs): void {
    for (const token of this.loading.get(key) ?? []) token.stale = true;
    this.keep(key, value, ttlMs);
  }

  /** Keeps the entry, making room when full (see `ownerOf`). */
  private keep(key: K, value: V, ttlMs: number): void {
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
