import {
  MEDIA_URL_RULE,
  MESSAGE_MEDIA_MAX,
  mediaContentTypeSchema,
  mediaUrlSchema,
  type TelephonyProvider,
} from '@maskline/contracts';
import { plivoWebhook } from '../voice/plivo-webhook.dialect';
import { twilioWebhook } from '../voice/twilio-webhook.dialect';
import { toE164, type WebhookDialect, type WebhookParams } from '../voice/webhook-dialect';

/** An inbound text message as a provider's webhook describes it. */
export interface InboundMessage {
  messageId: string;
  from: string;
  to: string;
  text: string;
  media: Array<{ url: string; contentType: string | null }>;
}

/**
 * How one provider's message webhooks are read and answered. Signatures are checked exactly as for
 * its voice webhooks (`signing`): the same headers, the same number credentials.
 */
export interface MessageDialect {
  readonly provider: TelephonyProvider;
  readonly signing: Pick<WebhookDialect, 'signed' | 'signatureValid' | 'providerAccount' | 'requestKey'>;
  /** The number the message was sent to (the one whose credentials must verify it). */
  to(p: WebhookParams): string | undefined;
  /**
   * The parameter naming the provider's id of the message, and the id's exact form. Every copy of a
   * message is recognised by that id (the replica's memory, the stream's duplicate window, the relay's
   * claim), and both providers sign their parameters as `keyvalue` pairs joined with nothing between:
   * a captured webhook re-split so that the next parameter reads as part of the id (`MessageSid` ending
   * in `NumMedia0`, no `NumMedia`) keeps its signature. An id of exactly the provider's form cannot
   * absorb another parameter, so such a copy is refused instead of relayed again as a new message.
   */
  readonly messageId: { param: string; form: RegExp; says: string };
  /** The parameter the text comes in. */
  readonly textParam: 'Text' | 'Body';
  /** The message; or the parameter that is missing, or the one that breaks its rule (`invalid`, `rule`). */
  read(p: WebhookParams): InboundMessage | { missing: string } | { invalid: string; rule: string };
  /** What the provider is answered once the message is taken (nothing for it to do). */
  readonly accepted: { contentType: string; body: string };
}

/**
 * Media parameters `<url>{N}` / `<type>{N}` for N from 0, as many as the provider sent (at most the
 * cap); a URL that is not one Maskline takes (`mediaUrlSchema`) is refused by its parameter's name,
 * never dropped. A content type that is not a plain one is left out (it is informational).
 */
function mediaOf(
  p: WebhookParams,
  urlParam: string,
  typeParam: string,
  count: number,
): InboundMessage['media'] | { invalid: string; rule: string } {
  const media: InboundMessage['media'] = [];
  for (let i = 0; i < Math.min(count, MESSAGE_MEDIA_MAX); i++) {
    const url = p[`${urlParam}${i}`];
    if (!url) continue;
    if (!mediaUrlSchema.safeParse(url).success) return { invalid: `${urlParam}${i}`, rule: MEDIA_URL_RULE };
    const type = p[`${typeParam}${i}`];
    media.push({ url, contentType: type && mediaContentTypeSchema.safeParse(type).success ? type : null });
  }
  return media;
}

/** Plivo's message_uuid: "a 36-character string" (its Message API), a UUID. */
const PLIVO_MESSAGE_ID: MessageDialect['messageId'] = {
  param: 'MessageUUID',
  form: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
  says: 'a UUID of 36 characters',
};

/** Twilio's Message SID: `^(SM|MM)[0-9a-fA-F]{32}$` (its error 90001). */
const TWILIO_MESSAGE_ID: MessageDialect['messageId'] = {
  param: 'MessageSid',
  form: /^(SM|MM)[0-9a-fA-F]{32}$/,
  says: 'SM or MM followed by 32 hexadecimal digits',
};

/** Plivo: `MessageUUID`, `From`, `To` (numbers without `+`), `Text`, `Type` (sms or mms), `Media{N}`. */
export const plivoMessages: MessageDialect = {
  provider: 'plivo',
  signing: plivoWebhook,
  messageId: PLIVO_MESSAGE_ID,
  textParam: 'Text',
  to: (p) => toE164(p.To),
  read(p) {
    const messageId = p[PLIVO_MESSAGE_ID.param];
    if (!messageId) return { missing: PLIVO_MESSAGE_ID.param };
    if (!p.From) return { missing: 'From' };
    const media = mediaOf(p, 'Media', 'MediaContentType', MESSAGE_MEDIA_MAX);
    if ('invalid' in media) return media;
    return {
      messageId,
      from: toE164(p.From) ?? p.From,
      to: toE164(p.To) ?? '',
      text: p[this.textParam] ?? '',
      media,
    };
  },
  accepted: { contentType: 'text/plain', body: '' },
};

/** Twilio: `MessageSid`, `From`, `To`, `Body`, `NumMedia`, `MediaUrl{N}`, `MediaContentType{N}`. */
export const twilioMessages: MessageDialect = {
  provider: 'twilio',
  signing: twilioWebhook,
  messageId: TWILIO_MESSAGE_ID,
  textParam: 'Body',
  to: (p) => toE164(p.To),
  read(p) {
    const messageId = p[TWILIO_MESSAGE_ID.param];
    if (!messageId) return { missing: TWILIO_MESSAGE_ID.param };
    if (!p.From) return { missing: 'From' };
    const count = /^\d{1,2}$/.test(p.NumMedia ?? '') ? Number(p.NumMedia) : 0;
    const media = mediaOf(p, 'MediaUrl', 'MediaContentType', count);
    if ('invalid' in media) return media;
    return {
      messageId,
      from: toE164(p.From) ?? p.From,
      to: toE164(p.To) ?? '',
      text: p[this.textParam] ?? '',
      media,
    };
  },
  accepted: {
    contentType: 'application/xml',
    body: '<?xml version="1.0" encoding="UTF-8"?><Response/>',
  },
};

/** Longest text taken at the edge; what a provider cannot send is refused later, with an event. */
export const INBOUND_TEXT_MAX = 10_000;

/**
 * The message a webhook describes, or the parameter that breaks its rule (missing, a media URL that
 * is not one Maskline takes, an id not of its provider's form, a text past INBOUND_TEXT_MAX), as a
 * refusal names it.
 */
export function takenMessage(
  dialect: MessageDialect,
  p: WebhookParams,
): InboundMessage | { field: string; rule: string } {
  const message = dialect.read(p);
  if ('missing' in message) return { field: message.missing, rule: 'is required' };
  if ('invalid' in message) return { field: message.invalid, rule: `must be ${message.rule}` };
  const id = dialect.messageId;
  if (!id.form.test(message.messageId)) return { field: id.param, rule: `must be ${id.says}` };
  if ([...message.text].length > INBOUND_TEXT_MAX) {
    return { field: dialect.textParam, rule: `must be at most ${INBOUND_TEXT_MAX} characters` };
  }
  return message;
}
