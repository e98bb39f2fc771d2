/** Messages remembered at most, over every number owner; past it, the oldest of the owner holding the most go first. */
const MAX_REMEMBERED = 200_000;

/**
 * The inbound messages this replica has taken lately (published to the stream), by their
 * deduplication id, and those it is taking now. A copy of one (the provider's retry, or a signed
 * request captured and replayed) is answered as the first was, without taking again: it spends
 * none of its number owner's inbound allowance and publishes nothing. A copy that arrives while the
 * first is under way waits for it and shares its outcome, refusal included. Remembered for `keepMs`
 * (the stream's duplicate window: within it the stream would drop the copy anyway), so a replayed
 * request costs its owner at most one token per replica and window, whatever the number of copies.
 *
 * Remembered per number owner: when the memory is full, the owner holding the most loses its
 * oldest. A tenant's own traffic (within its limit) pushes another tenant's texts out before the
 * window ends, reopening their replay, only when that tenant holds more than it does.
 */
export class TakenMessages {
  private readonly byOwner = new Map<string, Map<string, number>>();
  private remembered = 0;
  private readonly underWay = new Map<string, Promise<void>>();

  constructor(
    private readonly now: () => number,
    private readonly keepMs: number,
    private readonly max = MAX_REMEMBERED,
  ) {}

  /** `take` once for `owner`'s `id`: 'taken' when this call took it, 'again' when an earlier one had or did. */
  async once(owner: string, id: string, take: () => Promise<void>): Promise<'taken' | 'again'> {
    const until = this.byOwner.get(owner)?.get(id);
    if (until !== undefined && until > this.now()) return 'again';
    const key = `${owner}\n${id}`;
    const running = this.underWay.get(key);
    if (running) {
      await running;
      return 'again';
    }
    const work = take();
    this.underWay.set(key, work);
    try {
      await work;
    } finally {
      this.underWay.delete(key);
    }
    this.remember(owner, id);
    return 'taken';
  }

  private remember(owner: string, id: string): void {
    let taken = this.byOwner.get(owner);
    if (!taken) this.byOwner.set(owner, (taken = new Map()));
    if (taken.delete(id)) this.remembered -= 1;
    // Kept in the order remembered, so the expired are at the front.
    const now = this.now();
    for (const [first, until] of taken) {
      if (until > now) break;
      taken.delete(first);
      this.remembered -= 1;
    }
    taken.set(id, now + this.keepMs);
    this.remembered += 1;
    while (this.remembered > this.max) this.forgetOldestOfLargest();
  }

  private forgetOldestOfLargest(): void {
    let largest: [string, Map<string, number>] | undefined;
    for (const entry of this.byOwner) if (!largest || entry[1].size > largest[1].size) largest = entry;
    if (!largest) return;
    const [owner, taken] = largest;
    taken.delete(taken.keys().next().value as string);
    this.remembered -= 1;
    if (taken.size === 0) this.byOwner.delete(owner);
  }
}
