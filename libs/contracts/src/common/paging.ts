/**
 * Plivo's paging: `limit` 1–20 per page. `offset` is capped: a page past it is a search to narrow
 * (by time, number or status), and the session list merges live and ended sessions in memory, so an
 * unbounded offset would let one tenant make session-service hold any number of sessions at once.
 */
export const PAGE_LIMIT_MAX = 20;
export const PAGE_OFFSET_MAX = 10_000;
