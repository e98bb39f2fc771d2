import { randomBytes } from 'node:crypto';
import * as twilio from 'twilio';
import type { Provider } from '@maskline/telephony-simulator';
import { plivoV3Signature } from '@maskline/webhook-signatures';

/** A telephony webhook exactly as it goes on the wire: what a replay sends again, byte for byte. */
export interface SignedWebhook {
  url: string;
  params: Record<string, string>;
  headers: Record<string, string>;
}

/** Signs form parameters for `url` the way the provider does, with `token` (a fixed nonce for Plivo if given). */
export function signWebhook(
  provider: Provider,
  url: string,
  params: Record<string, string>,
  token: string,
  nonce = randomBytes(12).toString('hex'),
): SignedWebhook {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (provider === 'plivo') {
    headers['X-Plivo-Signature-V3'] = plivoV3Signature('POST', url, params, nonce, token);
    headers['X-Plivo-Signature-V3-Nonce'] = nonce;
  } else {
    headers['X-Twilio-Signature'] = twilio.getExpectedTwilioSignature(token, url, params);
  }
  return { url, params, headers };
}

export async function sendWebhook(w: SignedWebhook): Promise<{ status: number; body: string }> {
  const res = await fetch(w.url, {
    method: 'POST',
    headers: w.headers,
    body: new URLSearchParams(w.params).toString(),
  });
  return { status: res.status, body: await res.text() };
}

/** Every URL Maskline wrote into an XML answer (actions, callbacks, redirects), unescaped. */
export function urlsIn(xml: string): string[] {
  const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"');
  const attrs = [...xml.matchAll(/(?:action|callbackUrl|statusCallback|recordingStatusCallback)="([^"]+)"/g)];
  const redirects = [...xml.matchAll(/<Redirect[^>]*>([^<]+)<\/Redirect>/g)];
  return [...attrs, ...redirects].map((m) => unescape(m[1]));
}

/** The call parameters each provider sends for a call from `from` to `to`. */
export function callParams(
  provider: Provider,
  callId: string,
  from: string,
  to: string,
  providerAccount: string,
): Record<string, string> {
  return provider === 'plivo'
    ? { CallUUID: callId, From: from.replace(/^\+/, ''), To: to.replace(/^\+/, ''), Direction: 'inbound' }
    : { CallSid: callId, AccountSid: providerAccount, From: from, To: to, Direction: 'inbound' };
}
