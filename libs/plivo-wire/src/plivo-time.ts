/** Plivo's time format, `2024-05-29 04:47:18 +0000 UTC`; unset is "". */
export function plivoTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} +0000 UTC`;
}

const FILTER_TIME = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?)?$/;

/** What a list filter's time must be, as the API's 400 says it. */
export const PLIVO_FILTER_TIME_RULE =
  'a time as YYYY-MM-DD HH:MM[:ss[.uuuuuu]] (UTC), on a day and at an hour that exist';

/**
 * Whether `value` is a list filter's time: its shape, and a date and time that exist (not month 13,
 * 30 February or hour 24, which the shape alone lets through).
 */
export function isPlivoFilterTime(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = FILTER_TIME.exec(value);
  if (!m) return false;
  const [y, mo, d, h = 0, mi = 0, s = 0] = m
    .slice(1)
    .map((part) => (part === undefined ? undefined : Number(part)));
  const at = new Date(Date.UTC(y!, mo! - 1, d!, h, mi, s));
  return (
    at.getUTCFullYear() === y &&
    at.getUTCMonth() === mo! - 1 &&
    at.getUTCDate() === d &&
    at.getUTCHours() === h &&
    at.getUTCMinutes() === mi &&
    at.getUTCSeconds() === s
  );
}

/** A list filter's time (`YYYY-MM-DD HH:MM[:ss[.uuuuuu]]`, UTC, as `isPlivoFilterTime` accepts), as ISO. */
export function parsePlivoFilterTime(value: string): string {
  const [date, time = '00:00:00'] = value.split(' ');
  const full = time.length === 5 ? `${time}:00` : time;
  return new Date(`${date}T${full}Z`).toISOString();
}
