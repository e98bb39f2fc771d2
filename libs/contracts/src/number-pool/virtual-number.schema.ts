import { z } from 'zod';
import { e164Schema, isoTimeSchema } from '../common/primitives.schema';
import { mainAccountIdSchema, subaccountIdSchema } from '../common/account-scope.schema';

export const telephonyProviderSchema = z.enum(['plivo', 'twilio']);
export type TelephonyProvider = z.infer<typeof telephonyProviderSchema>;

/**
 * A provider account's id (Plivo Auth ID, Twilio Account SID; both are letters and digits): it is a
 * path segment of the provider's API, so nothing that could name another path (`..`, `/`).
 */
export const PROVIDER_ACCOUNT_ID_RULE = {
  pattern: /^[A-Za-z0-9_-]{1,64}$/,
  says: 'must be 1 to 64 letters, digits, "-" or "_"',
} as const;

/** Credentials the provider signs its webhooks with (Plivo Auth ID/Token, Twilio Account SID/Auth Token). */
export const providerCredentialsSchema = z
  .object({
    accountId: z.string().regex(PROVIDER_ACCOUNT_ID_RULE.pattern, PROVIDER_ACCOUNT_ID_RULE.says),
    authToken: z.string().min(8).max(128),
  })
  .strict();
export type ProviderCredentials = z.infer<typeof providerCredentialsSchema>;

/** A virtual number as services see it. Credentials are never part of it. */
export const virtualNumberSchema = z.object({
  number: e164Schema,
  country: z.string().length(2),
  accountId: mainAccountIdSchema,
  subaccountId: subaccountIdSchema.nullable(),
  alias: z.string().nullable(),
  region: z.string().nullable(),
  numberType: z.string(),
  carrier: z.string().nullable(),
  provider: telephonyProviderSchema,
  hasProviderCredentials: z.boolean(),
  /** Where calls go when no live session is on the number (else a message and hang up). */
  fallbackAnswerUrl: z.string().nullable(),
  /** Texted back when a message to the number is not relayed (else nothing is sent). */
  fallbackMessage: z.string().nullable().default(null),
  /** What the number can carry (absent from a number-pool before capabilities: both). */
  voiceEnabled: z.boolean().default(true),
  smsEnabled: z.boolean().default(true),
  /** The Twilio Proxy Service it serves (at most one), and whether it is kept for pinned use only. */
  proxyServiceSid: z.string().nullable().default(null),
  isReserved: z.boolean().default(false),
  status: z.enum(['active', 'deleted']),
  addedOn: isoTimeSchema,
});
export type VirtualNumber = z.infer<typeof virtualNumberSchema>;

/** What a session needs of its number: calls always, text messages with message masking. */
export const numberCapabilitySchema = z.enum(['voice', 'sms']);
export type NumberCapability = z.infer<typeof numberCapabilitySchema>;
