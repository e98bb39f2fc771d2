/**
 * Plivo writes phone numbers as digits, without `+` (`14155550100`); Maskline keeps E.164 with it
 * (`+14155550100`). Unset is "" on Plivo's wire.
 */
export function toPlivoNumber(e164: string | null | undefined): string {
  return (e164 ?? '').replace(/^\+/, '');
}

/** A number as Plivo (or a caller) wrote it, as E.164 when it is digits, else as sent (it will not match). */
export function fromPlivoNumber(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return /^\+?[1-9]\d{6,14}$/.test(trimmed) ? `+${trimmed.replace(/^\+/, '')}` : trimmed;
}
