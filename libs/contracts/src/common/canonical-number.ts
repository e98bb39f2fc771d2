import type { parsePhoneNumberFromString as Parse } from 'libphonenumber-js/max';
import { e164Schema } from './primitives.schema';

/**
 * libphonenumber's full metadata (2 MB, about 90 ms to load) on first use: every service imports
 * contracts, few of them canonicalise numbers, and none before it takes a request.
 */
let parse: typeof Parse | undefined;
function parser(): typeof Parse {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use
  parse ??= (require('libphonenumber-js/max') as { parsePhoneNumberFromString: typeof Parse })
    .parsePhoneNumberFromString;
  return parse;
}

/**
 * An E.164 number as libphonenumber writes it, when it knows it as a valid number: a national
 * prefix written after the country code dropped (+44 0 20… is +44 20…, the number a carrier
 * dials); as given otherwise. Two spellings of one phone compare equal (a party, its own numbers,
 * the number-pool's numbers).
 */
export function canonicalNumber(e164: string): string {
  const parsed = parser()(e164);
  return parsed?.isValid() ? parsed.number : e164;
}

/**
 * An E.164 number, kept and compared in its canonical form (`canonicalNumber`): a participant's
 * number from whoever names it (the API, a Proxy Service's out-of-session answer).
 */
export const canonicalE164Schema = e164Schema.transform(canonicalNumber);
