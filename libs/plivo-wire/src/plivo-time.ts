/** Plivo's time format, `2024-05-29 04:47:18 +0000 UTC`; unset is "". */
export function plivoTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} +0000 UTC`;
}

/** A list filter's time (`YYYY-MM-DD HH:MM[:ss[.uuuuuu]]`, UTC), as ISO. */
export function parsePlivoFilterTime(value: string): string {
  const [date, time = '00:00:00'] = value.split(' ');
  const full = time.length === 5 ? `${time}:00` : time;
  return new Date(`${date}T${full}Z`).toISOString();
}
