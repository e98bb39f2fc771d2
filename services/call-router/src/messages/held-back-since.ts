import { RELAY_RETRY_MAX_MS } from './held-back-retry';

/**
 * Seen held back again after this long without a look, a provider account's hold is a new one:
 * while an outage lasts, its texts look at it about once a minute each (on some replica; a large
 * backlog's paced looks less often, but many of them).
 */
export const HOLD_GAP_MS = 2 * RELAY_RETRY_MAX_MS;
/** Provider accounts remembered at most (as many as a replica keeps breakers); past it the least lately seen go. */
const MAX_ACCOUNTS = 10_000;

/**
 * Since when this replica has seen each provider account held back (its breaker refusing, or its
 * sends hanging), by compartment: a hold lasts through the breaker's trials that fail and ends when
 * its provider answers a send here (taken or refused) or this replica finds its breaker closed and
 * its sends not hanging, so a minute's outage reads as a minute, not as the few seconds since the
 * breaker last opened. In memory only, per replica: a restarted replica starts each hold afresh.
 */
export class HeldBackSince {
  private readonly holds = new Map<string, { since: number; seen: number }>();

  /** The account was seen held back at `now`. */
  seen(key: string, now: number): void {
    const hold = this.holds.get(key);
    const since = hold && now - hold.seen <= HOLD_GAP_MS ? hold.since : now;
    // The least lately seen first: the one forgotten past MAX_ACCOUNTS is a hold nobody looks at.
    this.holds.delete(key);
    this.holds.set(key, { since, seen: now });
    if (this.holds.size > MAX_ACCOUNTS) this.holds.delete(this.holds.keys().next().value as string);
  }

  /** The account's hold, if any, is over: its provider answered a send, or its breaker is closed again. */
  over(key: string): void {
    this.holds.delete(key);
  }

  /** How long the account has been held back as this replica saw it at `now` (0: it is not). */
  forMs(key: string, now: number): number {
    const hold = this.holds.get(key);
    return hold && now - hold.seen <= HOLD_GAP_MS ? now - hold.since : 0;
  }
}
