import { FairShares } from '@maskline/resilience';

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
 * Remembered per number owner. Every message is kept for the same time, so the order remembered is
 * the order of expiry: the expired go first, whoever owned them. Past `max` messages still in their
 * window, the owner holding the most (the one remembering, on a tie) loses its oldest: a tenant's
 * own traffic pushes another tenant's texts out before their window ends, reopening their replay,
 * only when that tenant holds more than it does.
 */
export class TakenMessages {
  /** Until when each owner's message is remembered; the oldest of the owner holding the most go first past `max`. */
  private readonly taken: FairShares<number>;
  /** Every remembering, in order (so in order of expiry); some since forgotten or remembered again. */
  private readonly order: Array<{ owner: string; id: string; until: number }> = [];
  private head = 0;
  private readonly underWay = new Map<string, Promise<void>>();

  constructor(
    private readonly now: () => number,
    private readonly keepMs: number,
    max = MAX_REMEMBERED,
  ) {
    this.taken = new FairShares<number>(max);
  }

  /** `take` once for `owner`'s `id`: 'taken' when this call took it, 'again' when an earlier one had or did. */
  async once(owner: string, id: string, take: () => Promise<void>): Promise<'taken' | 'again'> {
    const until = this.taken.get(owner, id);
    if (until !== undefined && until > this.now()) return 'again';
    // Owners are account ids (no newline): one key per owner and id.
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
    const now = this.now();
    this.forgetExpired(now);
    const until = now + this.keepMs;
    this.taken.set(owner, id, until);
    this.order.push({ owner, id, until });
  }

  /** From the front of `order`, what has expired (or was forgotten or remembered again since). */
  private forgetExpired(now: number): void {
    while (this.head < this.order.length) {
      const first = this.order[this.head]!;
      const until = this.taken.get(first.owner, first.id);
      if (until === first.until) {
        if (until > now) break;
        this.taken.delete(first.owner, first.id);
      }
      this.head += 1;
    }
    // Compacted once the forgotten front is half of it: amortised constant time per remembering.
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }
}
