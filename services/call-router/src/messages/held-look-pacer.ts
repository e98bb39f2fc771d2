import { DEFAULT_INBOUND_PER_SECOND } from '@maskline/contracts';

/**
 * Looks at one Maskline account's held-back texts a replica schedules in any second, at most: the
 * default inbound limit of an account, so a backlog waiting out a provider that stays down costs the
 * relay no more looks a second than its account may send texts by default.
 */
export const HELD_LOOKS_PER_SECOND = DEFAULT_INBOUND_PER_SECOND;
/** Accounts remembered at most (their schedules); past it the one paced longest ago is forgotten. */
const MAX_ACCOUNTS = 10_000;
/** Past seconds are dropped from an account's schedule once it holds this many more than its live run. */
const PRUNE_AFTER = 64;

interface Schedule {
  /** Looks scheduled by second (ms since the epoch / 1000, floored). */
  counts: Map<number, number>;
  /** A run of full seconds [runFrom, runTo): a look due in it goes to the first second after. */
  runFrom: number;
  runTo: number;
}

/**
 * Spreads the looks at texts whose provider account is held back (breaker open, sends hanging).
 * Each such text is looked at again about once a minute (`heldBackRetryMs`), so a backlog's looks
 * grow with the outage: an account texted 100 times a second whose provider stays down for an hour
 * holds 360,000 texts, 6,000 looks a second (a delivery and a put-off each), which the other
 * accounts' relays wait behind. Here a look is scheduled when its wait says unless that second
 * already holds `perSecond` of the account's looks, else in the first second after that does not
 * (up to the latest its caller allows): a small backlog is looked at as before (its waits and their
 * jitter unchanged), a large one at `perSecond` looks a second, each text later than a minute
 * apart. When the account answers again its texts come back at that pace, not all within a minute.
 * Per Maskline account (its subaccounts' numbers and every provider account of its own count
 * together: a tenant choosing more credentials gets no more looks); per replica, in memory.
 */
export class HeldLookPacer {
  private readonly schedules = new Map<string, Schedule>();

  constructor(private readonly perSecond = HELD_LOOKS_PER_SECOND) {}

  /**
   * The wait (ms) before a held text of `account` is looked at again: `waitMs`, or later when its
   * second is full, but never past `latestAt` (then at `latestAt`, counted there all the same: the
   * schedule counts every look it hands out, so what it says a second holds, that second holds).
   */
  waitFor(account: string, waitMs: number, now: number, latestAt = Infinity): number {
    const due = now + waitMs;
    const schedule = this.scheduleOf(account, now);
    let second = Math.floor(due / 1000);
    for (;;) {
      if (second >= schedule.runFrom && second < schedule.runTo) second = schedule.runTo;
      if ((schedule.counts.get(second) ?? 0) < this.perSecond) break;
      second++;
    }
    // Within its second, as late as it was due (the jitter of the waits kept).
    let at = second * 1000 + (due % 1000);
    if (at > latestAt) {
      at = Math.max(due, latestAt);
      second = Math.floor(at / 1000);
    }
    const count = (schedule.counts.get(second) ?? 0) + 1;
    schedule.counts.set(second, count);
    if (count >= this.perSecond) this.full(schedule, second);
    return at - now;
  }

  /** Keeps the run of full seconds the looks of a large backlog skip at once. */
  private full(schedule: Schedule, second: number): void {
    const isFull = (s: number) => (schedule.counts.get(s) ?? 0) >= this.perSecond;
    if (second === schedule.runTo) {
      schedule.runTo++;
    } else if (second === schedule.runFrom - 1) {
      schedule.runFrom--;
      while (isFull(schedule.runFrom - 1)) schedule.runFrom--;
    } else if (schedule.runTo <= schedule.runFrom) {
      // No run (or one that is past, emptied above): this one starts anew.
      schedule.runFrom = second;
      schedule.runTo = second + 1;
    } else {
      return; // a full second away from the run: found by the walk
    }
    while (isFull(schedule.runTo)) schedule.runTo++;
  }

  private scheduleOf(account: string, now: number): Schedule {
    let schedule = this.schedules.get(account);
    if (schedule) {
      this.schedules.delete(account);
    } else {
      schedule = { counts: new Map(), runFrom: 0, runTo: 0 };
    }
    this.schedules.set(account, schedule);
    if (this.schedules.size > MAX_ACCOUNTS) {
      this.schedules.delete(this.schedules.keys().next().value as string);
    }
    // What is past no longer counts: the run starts now at the earliest, and past seconds are
    // dropped once there are PRUNE_AFTER of them (each look adds at most one second).
    const nowSecond = Math.floor(now / 1000);
    schedule.runFrom = Math.max(schedule.runFrom, nowSecond);
    if (schedule.runTo < schedule.runFrom) schedule.runTo = schedule.runFrom;
    if (schedule.counts.size > schedule.runTo - schedule.runFrom + PRUNE_AFTER) {
      for (const second of schedule.counts.keys()) if (second < nowSecond) schedule.counts.delete(second);
    }
    return schedule;
  }

  /** Accounts with a schedule kept (for tests: memory stays bounded). */
  get size(): number {
    return this.schedules.size;
  }

  /** Seconds kept in an account's schedule (for tests: past ones are dropped). */
  secondsKept(account: string): number {
    return this.schedules.get(account)?.counts.size ?? 0;
  }
}
