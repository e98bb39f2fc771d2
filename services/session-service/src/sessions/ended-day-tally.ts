import type { FilterQuery } from 'mongoose';
import { CLOCK_SKEW_MS } from '@maskline/contracts';
import { packAscending, unpackAscending } from '@maskline/persistence';
import type { SessionDocument } from './session.schema';

/** A UTC day, the unit the history is kept and tallied by. */
export const DAY_MS = 86_400_000;

/**
 * How long after its day ends an ended session's record still goes into its day's collection, by the
 * writer's clock; later, into the collection kept before, which is never tallied. An expiry writes
 * into the day its session ended; one taken over from a stalled replica finishes within minutes.
 */
export const RECORD_IN_DAY_WITHIN_MS = 3_600_000;

/**
 * How long after its day ends a day of ended sessions is tallied, by the sweeping replica's clock:
 * after the last write into it by a clock up to CLOCK_SKEW_MS behind (RECORD_IN_DAY_WITHIN_MS), with
 * an hour more for that write to land.
 */
export const TALLY_AFTER_DAY_MS = RECORD_IN_DAY_WITHIN_MS + CLOCK_SKEW_MS + 3_600_000;

/**
 * The most subaccounts (and the account itself) one account's tally of a day lists (about 120 bytes
 * each); an account with more that day is left untallied for it, and its lists count that day.
 */
export const TALLY_GROUPS_MAX = 1_000;

/**
 * The most starts one account's tally of a day keeps (packed, about 3 bytes each): past it, none of
 * its groups keeps them, and a list whose start range cuts through one of them counts that day.
 */
export const TALLY_STARTS_MAX = 100_000;

/**
 * The sessions one account (or one of its subaccounts) made through the Plivo-style API that ended
 * on a day: how many, the first and last start among them, and every start (`starts`). No id, no
 * number.
 */
export interface TallyGroup {
  accountId: string;
  subaccountId: string | null;
  count: number;
  firstCreatedAt: Date;
  lastCreatedAt: Date;
  /**
   * Every start among them, packed (`packAscending`): a list's start range that cuts through the group
   * counts its matches from them. Absent past TALLY_STARTS_MAX, and in tallies made before them.
   */
  starts?: string;
}

/** What one record adds to a tally: the fields a list's count filters on. */
export type TalliedFields = Pick<SessionDocument, 'accountId' | 'subaccountId' | 'createdAt' | 'proxy'>;

/** One account's part of a day's tally: its groups, or 'too many' past TALLY_GROUPS_MAX. */
export interface AccountTally {
  accountId: string;
  groups: TallyGroup[] | 'too many';
}

/** A day's tally, built record by record in one pass over the day; Proxy sessions are not in it (nor in the list). */
export class DayTallyBuilder {
  readonly #groups = new Map<string, Map<string | null, TallyGroup>>();
  /** Each group's starts, while its account has at most TALLY_STARTS_MAX sessions that day. */
  readonly #starts = new Map<TallyGroup, number[]>();
  /** Each account's sessions that day so far (past the cap, its starts are let go). */
  readonly #sessions = new Map<string, number>();

  add(records: readonly TalliedFields[]): void {
    for (const r of records) {
      if (r.proxy !== undefined) continue;
      const subaccountId = r.subaccountId ?? null;
      const sessions = (this.#sessions.get(r.accountId) ?? 0) + 1;
      this.#sessions.set(r.accountId, sessions);
      let account = this.#groups.get(r.accountId);
      if (!account) this.#groups.set(r.accountId, (account = new Map()));
      const group = account.get(subaccountId);
      if (!group) {
        const made: TallyGroup = {
          accountId: r.accountId,
          subaccountId,
          count: 1,
          firstCreatedAt: r.createdAt,
          lastCreatedAt: r.createdAt,
        };
        account.set(subaccountId, made);
        if (sessions <= TALLY_STARTS_MAX) this.#starts.set(made, [r.createdAt.getTime()]);
        else this.#forgetStarts(account);
        continue;
      }
      group.count++;
      if (sessions <= TALLY_STARTS_MAX) this.#starts.get(group)?.push(r.createdAt.getTime());
      else this.#forgetStarts(account);
      if (r.createdAt < group.firstCreatedAt) group.firstCreatedAt = r.createdAt;
      if (r.createdAt > group.lastCreatedAt) group.lastCreatedAt = r.createdAt;
    }
  }

  /** Each account's groups, with their starts while the account has at most TALLY_STARTS_MAX. */
  accounts(): AccountTally[] {
    return [...this.#groups].map(([accountId, groups]) => {
      if (groups.size > TALLY_GROUPS_MAX) return { accountId, groups: 'too many' as const };
      const keepStarts = (this.#sessions.get(accountId) ?? 0) <= TALLY_STARTS_MAX;
      return {
        accountId,
        groups: [...groups.values()].map((g) => {
          const starts = keepStarts ? this.#starts.get(g)?.sort((a, b) => a - b) : undefined;
          const packed = starts && starts.length === g.count ? packAscending(starts) : undefined;
          return packed === undefined ? { ...g } : { ...g, starts: packed };
        }),
      };
    });
  }

  /** An account past TALLY_STARTS_MAX: its groups keep no starts, and none are held for it. */
  #forgetStarts(account: Map<string | null, TallyGroup>): void {
    for (const g of account.values()) this.#starts.delete(g);
  }
}

/** Whether a record of a session that ended at `endedAt` still goes into its day's collection (`now`, the writer's clock). */
export function recordsInItsDay(endedAt: Date, now: number): boolean {
  const dayEnd = Math.floor(endedAt.getTime() / DAY_MS) * DAY_MS + DAY_MS;
  return now < dayEnd + RECORD_IN_DAY_WITHIN_MS;
}

/**
 * The first day whose tally a list may trust, with `retainedFrom` the retention cutoff by the list's
 * clock: the first day nothing of is deleted by a retention sweep running now on a clock up to
 * CLOCK_SKEW_MS ahead (it deletes what ended before its own cutoff).
 */
export function firstTalliedDay(retainedFrom: Date): Date {
  return new Date(Math.ceil((retainedFrom.getTime() + CLOCK_SKEW_MS) / DAY_MS) * DAY_MS);
}

/**
 * Whether the tally of the day starting at `dayFrom` may be made (`now`) or trusted by a list: it is
 * at or after `firstTalliedDay`, and it ended TALLY_AFTER_DAY_MS ago.
 */
export function tallyHolds(dayFrom: Date, retainedFrom: Date, now: number): boolean {
  return (
    dayFrom.getTime() >= firstTalliedDay(retainedFrom).getTime() &&
    now >= dayFrom.getTime() + DAY_MS + TALLY_AFTER_DAY_MS
  );
}

/** What a day's tally tells a list: how many of the day's records match, and the latest start among them. */
export interface TalliedMatches {
  count: number;
  /** The latest start among them (null: none). */
  lastCreatedAt: Date | null;
}

const TALLIED_KEYS = new Set(['accountId', 'subaccountId', 'proxy', 'createdAt']);
const RANGE_KEYS = new Set(['$gt', '$gte', '$lt', '$lte']);

/**
 * How many of a day's records `filter` matches, from the day's tally alone; null when the tally
 * cannot tell: the filter asks about anything but the account, the subaccount, "not a Proxy session"
 * and a range of start times, or the range cuts through a matching group that keeps no starts.
 */
export function talliedMatches(
  groups: readonly TallyGroup[],
  filter: FilterQuery<SessionDocument> & { accountId: string },
): TalliedMatches | null {
  if (Object.keys(filter).some((k) => !TALLIED_KEYS.has(k))) return null;
  const proxy = filter.proxy as unknown;
  if (!isExactly(proxy, { $exists: false })) return null;
  const range = createdRange(filter.createdAt);
  if (range === null) return null;
  const subaccount = filter.subaccountId as unknown;
  if (subaccount !== undefined && subaccount !== null && typeof subaccount !== 'string') return null;
  let count = 0;
  let lastCreatedAt: Date | null = null;
  for (const g of groups) {
    if (g.accountId !== filter.accountId) continue;
    if (subaccount !== undefined && g.subaccountId !== subaccount) continue;
    const first = within(range, g.firstCreatedAt.getTime());
    const last = within(range, g.lastCreatedAt.getTime());
    if (first && last) {
      count += g.count;
      if (!lastCreatedAt || g.lastCreatedAt > lastCreatedAt) lastCreatedAt = g.lastCreatedAt;
    } else if (first || last || crosses(range, g)) {
      // The range cuts through the group: its matches by its starts, when it keeps them whole.
      const starts = g.starts === undefined ? [] : unpackAscending(g.starts);
      if (starts.length !== g.count) return null;
      const matching = starts.filter((t) => within(range, t));
      count += matching.length;
      const latest = matching.length > 0 ? new Date(matching[matching.length - 1]) : null;
      if (latest && (!lastCreatedAt || latest > lastCreatedAt)) lastCreatedAt = latest;
    }
  }
  return { count, lastCreatedAt };
}

type Range = { $gt?: Date; $gte?: Date; $lt?: Date; $lte?: Date };

/** The filter's start-time range (every instant without one); null when it is not a plain range of dates. */
function createdRange(value: unknown): Range | null {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || value instanceof Date) return null;
  const entries = Object.entries(value);
  if (entries.some(([k, v]) => !RANGE_KEYS.has(k) || !(v instanceof Date))) return null;
  return Object.fromEntries(entries) as Range;
}

function within(range: Range, t: number): boolean {
  return (
    (range.$gt === undefined || t > range.$gt.getTime()) &&
    (range.$gte === undefined || t >= range.$gte.getTime()) &&
    (range.$lt === undefined || t < range.$lt.getTime()) &&
    (range.$lte === undefined || t <= range.$lte.getTime())
  );
}

/** Whether the range lies between the group's first and last start, touching neither (some may match). */
function crosses(range: Range, g: TallyGroup): boolean {
  const lower = range.$gt ?? range.$gte;
  const upper = range.$lt ?? range.$lte;
  const first = g.firstCreatedAt.getTime();
  const last = g.lastCreatedAt.getTime();
  // Wholly before the group's first start, or wholly after its last: it matches none of them.
  if (upper !== undefined && upper.getTime() < first) return false;
  if (lower !== undefined && lower.getTime() > last) return false;
  return true;
}

function isExactly(value: unknown, expected: Record<string, unknown>): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const keys = Object.keys(value);
  return (
    keys.length === Object.keys(expected).length &&
    keys.every((k) => (value as Record<string, unknown>)[k] === expected[k])
  );
}
