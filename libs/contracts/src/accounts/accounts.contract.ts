import { z } from 'zod';
import { defineRpc } from '../contract';
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
