import { z } from 'zod';

/**
 * Which accounts keep their parties' numbers in ended sessions' records (an opt-out of redaction,
 * set by an operator). Shared state in NATS KV: written by the gateway, read by the services whose
 * sweeps redact. One key per main account that opted out; no key is the default (redact).
 */
export const ACCOUNT_PRIVACY_BUCKET = 'maskline-account-privacy';

export const accountPrivacySchema = z.object({ keepPartyNumbers: z.literal(true) }).strict();
export type AccountPrivacy = z.infer<typeof accountPrivacySchema>;
