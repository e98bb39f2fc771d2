/**
 * A bounded memory shared by owners (tenants): values by (owner, key), at most `max` in all. Past
 * it, the owner holding the most (the one adding, on a tie, unless its new entry is all it holds)
 * loses its oldest. So one owner's volume
 * pushes another's entries out only while it holds no more than they do: a tenant flooding it
 * forgets its own first. Per process; constant time per operation.
 */
export class FairShares<V, K = string> {
  private readonly byOwner = new Map<string, Map<K, V>>();
  /** Owners by how many they hold, and the most any holds: the one to evict from in constant time. */
  private readonly bySize = new Map<number, Set<string>>();
  private most = 0;
  private total = 0;

  /** `onEvict` hears of each entry dropped to make room (not of those deleted or replaced). */
  constructor(
    private readonly max: number,
    private readonly onEvict?: (owner: string, key: K) => void,
  ) {
    if (!(max >= 1)) throw new Error('FairShares holds at least one entry');
  }

  get size(): number {
    return this.total;
  }

  get(owner: string, key: K): V | undefined {
    return this.byOwner.get(owner)?.get(key);
  }

  /** Holds `value` as the owner's newest (one held already under `key` is replaced, and becomes the newest). */
  set(owner: string, key: K, value: V): void {
    const held = this.byOwner.get(owner) ?? new Map<K, V>();
    this.byOwner.set(owner, held);
    if (held.delete(key)) {
      held.set(key, value);
      return;
    }
    this.resize(owner, held.size, held.size + 1);
    held.set(key, value);
    this.total += 1;
    while (this.total > this.max) this.deleteOldestOf(this.holdingMost(owner));
  }

  delete(owner: string, key: K): boolean {
    const held = this.byOwner.get(owner);
    if (!held?.delete(key)) return false;
    this.total -= 1;
    this.resize(owner, held.size + 1, held.size);
    if (held.size === 0) this.byOwner.delete(owner);
    return true;
  }

  /**
   * The owner holding the most: `adding` on a tie, unless the entry it adds is all it holds (then
   * another's, the first to have held that many): past `max` owners, each new one's first entry
   * would otherwise push itself out, and a cache would keep no new tenant's.
   */
  private holdingMost(adding: string): string {
    const held = this.byOwner.get(adding)?.size ?? 0;
    if (held === this.most && held > 1) return adding;
    for (const owner of this.bySize.get(this.most)!) if (owner !== adding) return owner;
    return adding;
  }

  /** Forgets everything. */
  clear(): void {
    this.byOwner.clear();
    this.bySize.clear();
    this.most = 0;
    this.total = 0;
  }

  private deleteOldestOf(owner: string): void {
    const key = this.byOwner.get(owner)!.keys().next().value as K;
    this.delete(owner, key);
    this.onEvict?.(owner, key);
  }

  /** Moves `owner` from those holding `from` to those holding `to` (0: none). */
  private resize(owner: string, from: number, to: number): void {
    const was = this.bySize.get(from);
    was?.delete(owner);
    if (was?.size === 0) this.bySize.delete(from);
    if (to > 0) {
      const now = this.bySize.get(to);
      if (now) now.add(owner);
      else this.bySize.set(to, new Set([owner]));
    }
    if (to > this.most) this.most = to;
    else if (from === this.most && !this.bySize.has(from)) this.most = to;
  }
}
