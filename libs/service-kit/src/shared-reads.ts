/**
 * Expensive reads shared by everyone who asks for the same key at about the same time: concurrent
 * asks wait for one load, and its answer serves later asks for `ttlMs`. At most `maxEntries` keys are
 * kept (the oldest go first). A failed load is not kept. For views that may be a few seconds old
 * (statistics), so that a burst of requests costs one read, not one each.
 */
export class SharedReads<K, V> {
  private readonly entries = new Map<K, { value: Promise<V>; until: number }>();

  constructor(
    private readonly options: { ttlMs: number; maxEntries: number },
    private readonly now: () => number = Date.now,
  ) {}

  get(key: K, load: () => Promise<V>): Promise<V> {
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = load();
    this.entries.delete(key);
    this.entries.set(key, { value, until: now + this.options.ttlMs });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
    }
    return value;
  }
}
