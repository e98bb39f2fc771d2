import { NO_VALUE } from './api-time';

/**
 * Plivo sends numbers without "+" ("14155550100"); people read them as E.164. A masked value from the server
 * ("+49 15•••••23") or anything that is not all digits (a SIP address) is shown as it came: the console never
 * reveals or reshapes what the server chose to hide.
 */
export function formatPhoneNumber(value: string | null | undefined): string {
  if (value === null || value === undefined) return NO_VALUE;
  const trimmed = value.trim();
  if (trimmed === '') return NO_VALUE;
  return /^\d+$/.test(trimmed) ? `+${trimmed}` : trimmed;
}

const COUNT_FORMAT = new Intl.NumberFormat('en-US');

/** Whole counts with thousands separators; "—" when unknown. */
export function formatCount(value: number | null | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? COUNT_FORMAT.format(value) : NO_VALUE;
}
