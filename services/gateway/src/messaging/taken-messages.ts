/** Messages remembered at most; past it, the oldest are forgotten first. */
const MAX_REMEMBERED = 50_000;

/**
 * The inbound messages this replica has taken lately (published to the stream), by their
 * deduplication id, and those it is taking now. A copy of one (the provider's retry, or a signed
 * request captured and replayed) is answered as the first was, without taking again: it spends
 * none of its number owner's inbound allowance and publishes nothing. A copy that arrives while the
 * first is under way waits for it and shares its outcome, refusal included. Remembered for `keepMs`
 * (the stream's duplicate window: within it the stream would drop the copy anyway), so a replayed
 * request costs its owner at most one token per replica and window, whatever the number of copies.
 */
export class TakenMessages {
  private readonly taken = new Map<string, number>();
  private readonly underWay = new Map<string, Promise<void>>();

  constructor(
    private readonly now: () => number,
    private readonly keepMs: number,
    private readonly max = MAX_REMEMBERED,
  ) {}

  /** `take` once for `id`: 'taken' when this call took it, 'again' when an earlier one had or did. */
  async once(id: string, take: () => Promise<void>): Promise<'taken' | 'again'> {
    const until = this.taken.get(id);
    if (until !== undefined && until > this.now()) return 'again';
    const running = this.underWay.get(id);
    if (running) {
      await running;
      return 'again';
    }
    const work = take();
    this.underWay.set(id, work);
    try {
      await work;
    } finally {
      this.underWay.delete(id);
    }
    this.remember(id);
    return 'taken';
  }

  private remember(id: string): void {
    this.taken.delete(id);
    this.taken.set(id, this.now() + this.keepMs);
    while (this.taken.size > this.max) this.taken.delete(this.taken.keys().next().value as string);
  }
}
