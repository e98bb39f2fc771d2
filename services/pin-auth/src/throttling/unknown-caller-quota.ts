import { DAY_MS } from './throttle-rules';

/**
 * How many new unknown callers (phones in no PIN session on the number) a holder of numbers has had
 * counted on its numbers in one UTC day: each gets a throttle entry of its own, and a tenant signs
 * the webhooks of its own numbers with any caller number it likes, so these entries are bounded per
 * holder and day. One KV value per holder (`quota.<account>[.<subaccount>]`), replaced whole by
 * compare-and-set.
 */
export interface QuotaState {
  /** The UTC day (days since the epoch) the count is of. */
  day: number;
  count: number;
  /**
   * Always empty: shaped as an idle throttle state as well, so that a replica of an earlier release,
   * which reads every entry of the bucket as one, takes it for idle and forgets its copy.
   */
  failures: [];
  lockouts: [];
}

/** The UTC day `at` (epoch ms) falls in. */
export function dayOf(at: number): number {
  return Math.floor(at / DAY_MS);
}

/** When the UTC day of `at` ends (epoch ms): a holder's quota starts afresh. */
export function dayEnd(at: number): number {
  return (dayOf(at) + 1) * DAY_MS;
}

/** What the state says was spent on the day of `at` (nothing, if it is of an earlier day). */
export function spentOn(state: QuotaState | undefined, at: number): number {
  return state && state.day === dayOf(at) ? state.count : 0;
}

/** The state after `n` more on the day of `at` (a new day starts from none). */
export function spentMore(state: QuotaState | undefined, n: number, at: number): QuotaState {
  return { day: dayOf(at), count: spentOn(state, at) + n, failures: [], lockouts: [] };
}

/** Whether the value is a quota's, not a throttle key's (they share the bucket). */
export function isQuotaState(value: unknown): value is QuotaState {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as QuotaState).day === 'number' &&
    typeof (value as QuotaState).count === 'number'
  );
}
