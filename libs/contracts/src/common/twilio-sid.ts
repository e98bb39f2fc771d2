import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/** Twilio's SID shape: a two-letter prefix naming the kind (`KS` a Proxy Service, `SK` an API key, …) and 32 hex digits. */
export const twilioSidSchema = (prefix: string) => z.string().regex(new RegExp(`^${prefix}[0-9a-f]{32}$`));

/** A new random SID of that kind. */
export function newTwilioSid(prefix: string): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}
