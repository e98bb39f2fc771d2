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
 * (see `invalidateOn`) and, as a backstop, by a TTL. A load that overlapped an invalidation may
 * have read the value from before the change: it is returned once and not kept.
 */
export class InvalidatedCache<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();
  /** Invalidations so far: a load that saw this change is not kept. */
  private generation = 0;
  private tail?: EventTail;

  constructor(
    private readonly options: InvalidatedCacheOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached value, or `load()`'s, kept for `ttlOf(value)` ms (0: not kept). */
  async get(
    key: K,
    load: () => Promise<V>,
    ttlOf: (value: V) => number = () => this.options.ttlMs,
  ): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    const before = this.generation;
    const value = await load();
    const ttlMs = ttlOf(value);
    if (this.generation !== before || ttlMs <= 0) return value;
    if (!this.entries.has(key) && this.entries.size >= this.options.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as K);
    }
    this.entries.set(key, { value, until: this.now() + ttlMs });
    return value;
  }

  invalidate(key: K): void {
    this.generation++;
    this.entries.delete(key);
  }

  clear(): void {
    this.generation++;
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
  async follow<C extends EventContract>(
    nc: NatsConnection,
    event: C,
    keyOf: (payload: EventPayloadOf<C>) => K,
    onLost: (err: unknown) => void,
  ): Promise<void> {
    this.tail = await tailEvents(nc, {
      stream: event.stream,
      filterSubjects: event.subject,
      onEvent: (_subject, payload) => {
        const parsed = event.payload.safeParse(payload);
        if (parsed.success) this.invalidate(keyOf(parsed.data as EventPayloadOf<C>));
        else this.clear();
      },
      onError: (err) => {
        this.clear();
        onLost(err);
      },
    });
  }

  stopFollowing(): void {
    this.tail?.stop();
  }
}
