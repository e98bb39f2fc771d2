import { z } from 'zod';
import { defineEvent } from '../contract';
import { mainAccountIdSchema, subaccountIdSchema } from '../common/account-scope.schema';
import { e164Schema, isoTimeSchema, uuidSchema } from '../common/primitives.schema';
import { routingSessionSchema } from '../calls/routing.contract';
import { telephonyProviderSchema } from '../number-pool/virtual-number.schema';
import { sealedTextSchema } from '../common/sealed-text.schema';

/**
 * The label the message-body key is derived under from the call-context keyring (HKDF): the
 * gateway seals a message's text with it, the call router opens it. Nothing else can read it.
 */
export const MESSAGE_BODY_KEY_LABEL = 'maskline message body v1';

export { sealedTextSchema } from '../common/sealed-text.schema';

/** At most this many media URLs per message (Twilio's limit for an MMS). */
export const MESSAGE_MEDIA_MAX = 10;

/** The longest media URL Maskline takes, and the longest content type it keeps. */
export const MEDIA_URL_MAX = 2048;
const MEDIA_CONTENT_TYPE_MAX = 128;

/** Media in clear, as events published before media were sealed carry them (`media`). */
export const messageMediaSchema = z
  .object({
    url: z.string().min(1).max(MEDIA_URL_MAX),
    contentType: z.string().max(MEDIA_CONTENT_TYPE_MAX).nullable(),
  })
  .strict();
/** What a media URL must be, in words (for a refusal naming its field). */
export const MEDIA_URL_RULE = `an http(s) URL of at most ${MEDIA_URL_MAX} characters, printable ASCII with no space, quote or backslash`;
/**
 * A media URL as Maskline takes it: a URL's own characters (a provider's media URLs are so). It
 * also bounds what a message's sealed media can grow to: ten of these fit `sealedTextSchema` at
 * one byte a character, where any character JSON escapes could take six.
 */
export const mediaUrlSchema = z
  .string()
  .max(MEDIA_URL_MAX)
  .regex(/^https?:\/\/[\x21\x23-\x5b\x5d-\x7e]+$/i, `must be ${MEDIA_URL_RULE}`);
/** A media item's content type, kept only when it is a plain one (it is informational: sends carry URLs). */
export const mediaContentTypeSchema = z
  .string()
  .max(MEDIA_CONTENT_TYPE_MAX)
  .regex(/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/);

/** A message's media as Maskline takes them and seals them (`sealedMedia`). */
export const takenMediaSchema = z
  .object({ url: mediaUrlSchema, contentType: mediaContentTypeSchema.nullable() })
  .strict();

/** A provider's id for a message (Plivo's MessageUUID, Twilio's MessageSid). */
const providerMessageIdSchema = z.string().min(1).max(64);

/** Which way a relayed message went between the session's parties. */
export const messageDirectionSchema = z.enum(['first-to-second', 'second-to-first']);
export type MessageDirection = z.infer<typeof messageDirectionSchema>;

/**
 * A text message to a virtual number, taken by the gateway after its signature verified with
 * that number's credentials. Published with the provider's message id as the message id, so a
 * provider's retry of the same webhook is one event. The text and the media URLs are sealed: the
 * stream never holds them in clear.
 */
export const MessageReceived = defineEvent(
  'MASKLINE_EVENTS',
  'events.message.received.v1',
  z
    .object({
      provider: telephonyProviderSchema,
      providerMessageId: providerMessageIdSchema,
      /** The number's owner, as the number's routing said when the signature verified. */
      accountId: mainAccountIdSchema,
      /**
       * Which of the owner's holders had the number then (a subaccount; null: the main account), or
       * for a message sent through the API, the sending Session's. The message is its holder's: once
       * the number has moved to another (another subaccount, the main account) nothing is sent, not
       * even a plan an earlier look made, on the new holder's credentials and slots. Absent from a
       * gateway before it (carried in a header: a router before it reads the event strictly).
       */
      subaccountId: subaccountIdSchema.nullable().optional(),
      virtualNumber: e164Schema,
      /** As the provider wrote it (an E.164 number, or a short code or sender name that cannot be relayed). */
      sender: z.string().min(1).max(32),
      text: sealedTextSchema,
      /**
       * Empty: the media travel in `sealedMedia` (MessageTextSeal.sealContent, which leaves nothing
       * here). Events published before media were sealed carry them here, in clear, and are still
       * relayed.
       */
      media: z.array(messageMediaSchema).max(MESSAGE_MEDIA_MAX),
      /** The message's media (URLs and content types) sealed as its text is, when it has any. */
      sealedMedia: sealedTextSchema.optional(),
      at: isoTimeSchema,
      /**
       * A message sent through the API (Twilio Proxy's MessageInteractions) to a participant, from
       * its session's number: sent as it says, no relay decision. `sender` is then the number.
       */
      request: z
        .object({ sessionId: uuidSchema, to: e164Schema, direction: messageDirectionSchema })
        .strict()
        .optional(),
    })
    .strict(),
  { inHeader: ['subaccountId'] },
);

/** Why a message that had somewhere to go did not get there. */
export const MESSAGE_FAILURE_REASONS = [
  /** Longer than the provider accepts: refused before sending, never truncated. */
  'too-long',
  /** The provider refused the send (4xx other than 429). */
  'provider-refused',
  /** The provider kept failing (5xx, 429, timeouts) until the retries ran out. */
  'provider-unavailable',
  /** The number has no provider credentials to send with. */
  'no-credentials',
  /** The number does not take text messages (its `sms_enabled` is false): nothing is sent from it. */
  'sms-disabled',
  /** Sent through the API (a MessageInteraction), and its session closed before it went. */
  'session-ended',
  /**
   * The number of its session is no longer the account's with that provider (released, or moved to
   * another owner or provider) before it went: a message sent through the API, or a relay that was
   * waiting (its provider account down, or a send it did not take) when the number changed.
   */
  'number-released',
] as const;
export const messageFailureReasonSchema = z.enum(MESSAGE_FAILURE_REASONS);

const messageOutcome = {
  accountId: mainAccountIdSchema,
  sessionId: uuidSchema,
  virtualNumber: e164Schema,
  provider: telephonyProviderSchema,
  /** The inbound message's provider id (the interaction's id; Plivo's MessageUUID in callbacks). */
  messageId: providerMessageIdSchema,
  direction: messageDirectionSchema,
  from: e164Schema,
  to: e164Schema,
  /** Characters (Unicode code points) and the segments the text is carried in; never the text. */
  length: z.number().int().nonnegative(),
  segments: z.number().int().nonnegative(),
  mediaCount: z.number().int().min(0).max(MESSAGE_MEDIA_MAX),
  at: isoTimeSchema,
  /** The session as routing saw it: the dispatcher takes the callback target from it. */
  routing: routingSessionSchema.optional(),
  /** Sent through the API to the party `direction` leads to (no party sent it). */
  viaApi: z.literal(true).optional(),
};

/** A message relayed to the other party (Plivo-style callback SessionMessageRelayed). */
export const MessageRelayed = defineEvent(
  'MASKLINE_EVENTS',
  'events.message.relayed.v1',
  z
    .object({
      ...messageOutcome,
      /** The provider's id for the message sent to the other party. */
      relayedMessageId: z.string().max(64).nullable(),
    })
    .strict(),
);

/** A message that was to be relayed and was not (Plivo-style callback SessionMessageFailed). */
export const MessageFailed = defineEvent(
  'MASKLINE_EVENTS',
  'events.message.failed.v1',
  z.object({ ...messageOutcome, reason: messageFailureReasonSchema }).strict(),
);
