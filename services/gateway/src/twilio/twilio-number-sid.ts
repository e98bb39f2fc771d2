import { e164Schema, DerivedSid } from '@maskline/contracts';

const NUMBER_SIDS = new DerivedSid('PN', 'maskline twilio number sid');

/**
 * A number's Twilio-shaped SID (`PN` and 32 hex digits), one to one with its E.164 form: every
 * number of the inventory has one, derived, never stored.
 */
export function numberSidOf(e164: string): string {
  if (!e164Schema.safeParse(e164).success) throw new Error(`not an E.164 number: ${e164}`);
  return NUMBER_SIDS.of(BigInt(e164.slice(1)));
}

/** The number a SID stands for, or null when it stands for none. */
export function numberOfSid(sid: string): string | null {
  const value = NUMBER_SIDS.valueOf(sid);
  if (value === null) return null;
  const number = `+${value.toString()}`;
  return e164Schema.safeParse(number).success ? number : null;
}
