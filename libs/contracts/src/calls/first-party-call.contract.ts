import { z } from 'zod';
import { mainAccountIdSchema } from '../common/account-scope.schema';
import { e164Schema, isoTimeSchema, uuidSchema } from '../common/primitives.schema';
import { defineEvent } from '../contract';

/**
 * Why the call to a session's first party (`initiate_call_to_first_party`) was not placed, or may
 * not have been: what its callback's `FailureReason` says.
 *
 * - `no-credentials`: the session's number has no provider credentials to place calls with;
 * - `number-not-held`: the number is no longer the session's account's (another's now, or in no inventory);
 * - `provider-refused`: the provider refused the request (a 4xx);
 * - `provider-timeout`: the provider did not answer the request in time: the call may have been placed;
 * - `provider-unavailable`: the provider answered 5xx or 429, or could not be reached, through every try;
 * - `outcome-unknown`: an earlier try was cut short (a replica stopped mid-request, or Maskline could
 *   not record that the provider had not taken it): the call may have been placed, and is not placed again;
 * - `unavailable`: Maskline could not read the session or its number through every try, or failed itself.
 */
export const firstPartyCallFailureSchema = z.enum([
  'no-credentials',
  'number-not-held',
  'provider-refused',
  'provider-timeout',
  'provider-unavailable',
  'outcome-unknown',
  'unavailable',
]);
export type FirstPartyCallFailure = z.infer<typeof firstPartyCallFailureSchema>;

/** The call to a session's first party was given up (Plivo-style callback SessionFirstPartyCallFailed). */
export const FirstPartyCallFailed = defineEvent(
  'MASKLINE_EVENTS',
  'events.call.first-party-failed.v1',
  z
    .object({
      accountId: mainAccountIdSchema,
      sessionId: uuidSchema,
      virtualNumber: e164Schema,
      firstParty: e164Schema,
      reason: firstPartyCallFailureSchema,
      at: isoTimeSchema,
    })
    .strict(),
);
