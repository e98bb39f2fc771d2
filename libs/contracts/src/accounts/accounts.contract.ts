import { z } from 'zod';
import { defineEvent, defineRpc } from '../contract';
import { isoTimeSchema } from '../common/primitives.schema';
import { twilioSidSchema } from '../common/twilio-sid';
import { mainAccountIdSchema, subaccountIdSchema } from '../common/account-scope.schema';

/**
 * The Auth Token callbacks for an account's sessions are signed with (Plivo signs with the
 * token of the account that owns the resource). Answered by the gateway, which owns accounts.
 * Internal only: carries a secret, so NATS must be private (TLS and auth in production).
 */
export const GetCallbackSigningToken = defineRpc(
  'gateway',
  'gateway.accounts.signing-token.v1',
  z.object({ accountId: mainAccountIdSchema, subaccountId: subaccountIdSchema.optional() }).strict(),
  z.object({ authId: z.string(), authToken: z.string() }),
);

/**
 * An account's credentials changed (its Auth Token was rotated): every gateway replica forgets
 * what it cached for that Auth ID, so the old token stops working everywhere at once.
 */
export const AccountCredentialsChanged = defineEvent(
  'MASKLINE_EVENTS',
  'events.account.credentials-changed.v1',
  z.object({ authId: z.string().regex(/^(MA|SA)[A-Z0-9]{18}$/), at: isoTimeSchema }).strict(),
);

/** A Twilio-shaped API key's SID: `SK` and 32 hex digits. */
export const apiKeySidSchema = twilioSidSchema('SK');

/** An API key was revoked: every gateway replica forgets it at once. */
export const ApiKeyRevoked = defineEvent(
  'MASKLINE_EVENTS',
  'events.account.api-key-revoked.v1',
  z.object({ sid: apiKeySidSchema, at: isoTimeSchema }).strict(),
);
