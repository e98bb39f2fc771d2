/** One hour, in milliseconds: the bucket of every hourly statistic. */
export const HOUR_MS = 3_600_000;

/** The longest window an hourly statistic (PIN security, callback statistics) may look back over. */
export const STATS_WINDOW_MAX_HOURS = 168;

/**
 * Where a window of `hours` hourly buckets ending with the current hour begins: every statistic and
 * the query that feeds it use this one rule, so a bucket never holds half an hour.
 */
export function hourlyWindowStart(now: number, hours: number): number {
  return Math.floor(now / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS;
}
