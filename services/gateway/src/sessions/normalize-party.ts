import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { CodedError } from '@maskline/contracts';

/** A phone number parameter as E.164, validated with libphonenumber's full metadata. */
export function normalizeParty(field: string, raw: string): string {
  const value = raw.trim();
  const parsed = parsePhoneNumberFromString(value.startsWith('+') ? value : `+${value}`);
  if (!parsed || !parsed.isValid()) {
    throw CodedError.validation(field, `${field} is not a valid phone number`);
  }
  return parsed.number;
}
