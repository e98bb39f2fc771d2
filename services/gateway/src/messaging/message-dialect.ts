import { MESSAGE_MEDIA_MAX, type TelephonyProvider } from '@maskline/contracts';
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
  readonly signing: Pick<WebhookDialect, 'signed' | 'signatureValid' | 'providerAccount'>;
  /** The number the message was sent to (the one whose credentials must verify it). */
  to(p: WebhookParams): string | undefined;
  /** The message, or the name of the parameter that is missing. */
  read(p: WebhookParams): InboundMessage | { missing: string };
  /** What the provider is answered once the message is taken (nothing for it to do). */
  readonly accepted: { contentType: string; body: string };
}

/** Media parameters `<url>{N}` / `<type>{N}` for N from 0, as many as the provider sent (at most the cap). */
function mediaOf(p: WebhookParams, urlParam: string, typeParam: string, count: number) {
  const media: InboundMessage['media'] = [];
  for (let i = 0; i < Math.min(count, MESSAGE_MEDIA_MAX); i++) {
    const url = p[`${urlParam}${i}`];
    if (url) media.push({ url, contentType: p[`${typeParam}${i}`] || null });
  }
  return media;
}

/** Plivo: `MessageUUID`, `From`, `To` (numbers without `+`), `Text`, `Type` (sms or mms), `Media{N}`. */
export const plivoMessages: MessageDialect = {
  provider: 'plivo',
  signing: plivoWebhook,
  to: (p) => toE164(p.To),
  read(p) {
    if (!p.MessageUUID) return { missing: 'MessageUUID' };
    if (!p.From) return { missing: 'From' };
    return {
      messageId: p.MessageUUID,
      from: toE164(p.From) ?? p.From,
      to: toE164(p.To) ?? '',
      text: p.Text ?? '',
      media: mediaOf(p, 'Media', 'MediaContentType', MESSAGE_MEDIA_MAX),
    };
  },
  accepted: { contentType: 'text/plain', body: '' },
};

/** Twilio: `MessageSid`, `From`, `To`, `Body`, `NumMedia`, `MediaUrl{N}`, `MediaContentType{N}`. */
export const twilioMessages: MessageDialect = {
  provider: 'twilio',
  signing: twilioWebhook,
  to: (p) => toE164(p.To),
  read(p) {
    if (!p.MessageSid) return { missing: 'MessageSid' };
    if (!p.From) return { missing: 'From' };
    const count = /^\d{1,2}$/.test(p.NumMedia ?? '') ? Number(p.NumMedia) : 0;
    return {
      messageId: p.MessageSid,
      from: toE164(p.From) ?? p.From,
      to: toE164(p.To) ?? '',
      text: p.Body ?? '',
      media: mediaOf(p, 'MediaUrl', 'MediaContentType', count),
    };
  },
  accepted: {
    contentType: 'application/xml',
    body: '<?xml version="1.0" encoding="UTF-8"?><Response/>',
  },
};
