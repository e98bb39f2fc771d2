import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export type ParsedPhoneNumber = { ok: true; e164: string; country: string } | { ok: false; reason: string };

/**
 * Validates a phone number with libphonenumber's full metadata and returns it as E.164 with its
 * country. Accepts Plivo's form without `+` (`14155550100`) as well as `+14155550100`.
 */
export function parsePhoneNumber(raw: string): ParsedPhoneNumber {
  const trimmed = raw.trim();
  if (!/^\+?[0-9]{6,15}$/.test(trimmed)) {
    return { ok: false, reason: 'must be digits in international format, e.g. +14155550100' };
  }
  const parsed = parsePhoneNumberFromString(trimmed.startsWith('+') ? trimmed : `+${trimmed}`);
  if (!parsed || !parsed.isValid()) return { ok: false, reason: 'is not a valid phone number' };
  if (!parsed.country)
    return { ok: false, reason: 'has no country (non-geographic numbers are not supported)' };
  return { ok: true, e164: parsed.number, country: parsed.country };
}

/** Where a number is from: its ISO country and its country calling code (the `44` of `+44`). */
export interface NumberOrigin {
  country: string;
  callingCode: string;
}

/** The origin of a party's number, for geomatch; undefined when it cannot be told. */
export function originOf(e164: string): NumberOrigin | undefined {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return undefined;
  return {
    country: parsed.country ?? `+${parsed.countryCallingCode}`,
    callingCode: parsed.countryCallingCode,
  };
}
