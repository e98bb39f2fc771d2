import { createHash } from 'node:crypto';
import { e164Schema } from '@maskline/contracts';

const NUMBER_SID = /^PN([0-9a-f]{32})$/;
/** Spreads the digits (public: the SID names a number, it hides nothing). */
const MASK = BigInt(
  `0x${createHash('sha256').update('maskline twilio number sid').digest('hex').slice(0, 32)}`,
);

/**
 * A number's Twilio-shaped SID (`PN` and 32 hex digits), one to one with its E.164 form: every
 * number of the inventory has one, derived, never stored.
 */
export function numberSidOf(e164: string): string {
  if (!e164Schema.safeParse(e164).success) throw new Error(`not an E.164 number: ${e164}`);
  return `PN${(BigInt(e164.slice(1)) ^ MASK).toString(16).padStart(32, '0')}`;
}

/** The number a SID stands for, or null when it stands for none. */
export function numberOfSid(sid: string): string | null {
  const m = NUMBER_SID.exec(sid);
  if (!m) return null;
  const number = `+${(BigInt(`0x${m[1]}`) ^ MASK).toString()}`;
  return e164Schema.safeParse(number).success ? number : null;
}
