import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';

/** Twilio's SID shape: a two-letter prefix naming the kind (`KS` a Proxy Service, `SK` an API key, …) and 32 hex digits. */
export const twilioSidSchema = (prefix: string) => z.string().regex(new RegExp(`^${prefix}[0-9a-f]{32}$`));

/** A new random SID of that kind. */
export function newTwilioSid(prefix: string): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}

/**
 * A Proxy Session's SID is its engine session's id in Twilio's shape (`KC` and the UUID's 32 hex
 * digits): one id, two spellings, nothing to look up.
 */
export function proxySessionSidOf(sessionId: string): string {
  return `KC${sessionId.replace(/-/g, '').toLowerCase()}`;
}

/** The engine session id a `KC…` SID spells, or null when it is not one. */
export function sessionIdOfProxySid(sid: string): string | null {
  const m = /^KC([0-9a-f]{8})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{12})$/.exec(sid);
  return m ? m.slice(1).join('-') : null;
}

/** An interaction's SID: `KI` and 32 hex digits of a digest of its session and its call or message id. */
export function interactionSidOf(sessionId: string, callId: string): string {
  return `KI${createHash('sha256').update(`${sessionId}|${callId}`).digest('hex').slice(0, 32)}`;
}
