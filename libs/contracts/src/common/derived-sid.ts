import { createHash } from 'node:crypto';

/**
 * SIDs derived one to one from a value (an Auth ID, a phone number) rather than stored: the value
 * as a 128-bit number, its digits spread by a fixed public mask so that SIDs look like Twilio's.
 * The mask hides nothing (a SID is a name, not a secret); it only keeps neighbours from looking alike.
 */
export class DerivedSid {
  private readonly mask: bigint;
  private readonly pattern: RegExp;

  constructor(
    private readonly prefix: string,
    label: string,
  ) {
    this.mask = BigInt(`0x${createHash('sha256').update(label).digest('hex').slice(0, 32)}`);
    this.pattern = new RegExp(`^${prefix}([0-9a-f]{32})$`);
  }

  /** The SID of a value below 2^128. */
  of(value: bigint): string {
    return `${this.prefix}${(value ^ this.mask).toString(16).padStart(32, '0')}`;
  }

  /** The value a SID stands for, or null when it is not one of these SIDs. */
  valueOf(sid: string): bigint | null {
    const m = this.pattern.exec(sid);
    return m ? BigInt(`0x${m[1]}`) ^ this.mask : null;
  }
}
