/** How many times the console asks again for a read the API refused for now (429 or 503 with `Retry-After`). */
export const READ_RETRIES = 2;
/** The longest the console waits before asking again, whatever `Retry-After` says: a person is looking at the page. */
export const MAX_RETRY_WAIT_MS = 10_000;

/**
 * How long to wait before asking again for a read the API answered with `status`, or null when it
 * should not be asked again: only 429 and 503 that carry `Retry-After` (the API's "too many reads of
 * history at once" and "busy, try again"), only `READ_RETRIES` times, never longer than
 * MAX_RETRY_WAIT_MS. `Retry-After` is in seconds or an HTTP date.
 */
export function retryWaitMs(
  status: number,
  retryAfter: string | null,
  retriesSoFar: number,
  now: number,
): number | null {
  if ((status !== 429 && status !== 503) || retryAfter === null || retriesSoFar >= READ_RETRIES) return null;
  const text = retryAfter.trim();
  let waitMs: number;
  if (/^\d+$/.test(text)) waitMs = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return null;
    waitMs = Math.max(0, at - now);
  }
  return waitMs > MAX_RETRY_WAIT_MS ? null : waitMs;
}
