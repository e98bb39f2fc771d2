/**
 * Times arrive in two shapes: Plivo's "2026-11-29 16:02:44 +0000 UTC" (optionally with a fraction of a second)
 * and ISO 8601 from Maskline's own endpoints. The console reads both into epoch milliseconds and shows every
 * time in UTC, the same zone the session search form uses.
 */
const TIME_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?(?:\s+[A-Za-z][A-Za-z0-9_/+-]*)?$/;

export const NO_VALUE = '—';

/** Epoch milliseconds, or null for null, "" and anything that is not a real date and time. */
export function parseApiTime(value: string | null | undefined): number | null {
  if (typeof value !== 'string') return null;
  const match = TIME_PATTERN.exec(value.trim());
  if (!match) return null;
  const [, year, month, day, hour, minute, second = '0', fraction = '', offset = 'Z'] = match;
  const parts = [year, month, day, hour, minute, second].map(Number);
  const [y, mo, d, h, mi, s] = parts;
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3));
  const utc = Date.UTC(y, mo - 1, d, h, mi, s, millis);
  // Date.UTC rolls 2026-02-30 over to March: a field that does not survive the round trip was out of range.
  const check = new Date(utc);
  if (
    check.getUTCFullYear() !== y ||
    check.getUTCMonth() !== mo - 1 ||
    check.getUTCDate() !== d ||
    check.getUTCHours() !== h ||
    check.getUTCMinutes() !== mi ||
    check.getUTCSeconds() !== s
  ) {
    return null;
  }
  return utc - offsetMinutes(offset) * 60_000;
}

function offsetMinutes(offset: string): number {
  if (offset === 'Z') return 0;
  const digits = offset.replace(':', '');
  const sign = digits.startsWith('-') ? -1 : 1;
  return sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** "2026-11-29 16:02:44 UTC". */
export function formatUtc(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} UTC`;
}

/** "2026-11-29 16:00 UTC": hours and minutes only, for chart summaries. */
export function formatUtcMinute(ms: number): string {
  return formatUtc(ms).replace(/:\d{2} UTC$/, ' UTC');
}

/** A time from the API as the console shows it: "—" when absent, the raw text when it cannot be read. */
export function displayApiTime(value: string | null | undefined): string {
  if (value === null || value === undefined || value.trim() === '') return NO_VALUE;
  const ms = parseApiTime(value);
  return ms === null ? value : formatUtc(ms);
}

/** The machine-readable value for a `<time datetime>` attribute, or undefined when unknown. */
export function dateTimeAttribute(ms: number | null): string | undefined {
  return ms === null ? undefined : new Date(ms).toISOString();
}

/** Seconds as "45 s", "1 min 5 s", "2 h 3 min"; "—" for null and anything not a non-negative number. */
export function formatDuration(seconds: number | string | null | undefined): string {
  if (seconds === null || seconds === undefined || seconds === '') return NO_VALUE;
  const total = Math.round(Number(seconds));
  if (!Number.isFinite(total) || total < 0) return NO_VALUE;
  if (total < 60) return `${total} s`;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  return rest > 0 ? `${minutes} min ${rest} s` : `${minutes} min`;
}
