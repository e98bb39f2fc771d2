import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { CodedError } from '@maskline/contracts';

/**
 * An E.164 number as libphonenumber writes it, when it knows it as a valid number: a national
 * prefix written after the country code dropped (+44 0 20… is +44 20…, the number a carrier
 * dials); as given otherwise. Two spellings of one phone compare equal (a party, its own numbers).
 */
export function canonicalNumber(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164);
  return parsed?.isValid() ? parsed.number : e164;
}

/** A phone number parameter as E.164, validated with libphonenumber's full metadata. */
export function normalizeParty(field: string, raw: string): string {
  const value = raw.trim();
  const parsed = parsePhoneNumberFromString(value.startsWith('+') ? value : `+${value}`);
  if (!parsed || !parsed.isValid()) {
    throw CodedError.validation(field, `${field} is not a valid phone number`);
  }
  return parsed.number;
}
