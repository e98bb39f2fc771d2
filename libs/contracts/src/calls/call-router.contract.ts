import { z } from 'zod';
import { mainAccountIdSchema, subaccountIdSchema } from '../common/account-scope.schema';
import { e164Schema } from '../common/primitives.schema';
import { defineRpc } from '../contract';
import { telephonyProviderSchema } from '../number-pool/virtual-number.schema';
import { callActionSchema } from './call-actions.schema';
import { followUpSchema } from './call-context';
import { voiceStageSchema } from './voice-stage.schema';

/**
 * A provider webhook, reduced to what routing needs, after the gateway has established whose it
 * is: the virtual number whose stored credentials verified the provider's signature, and that
 * number's owner. Every decision is confined to them. `context` is the follow-up Maskline handed
 * out for this URL (its signature, binding and age already checked), or null on the URLs
 * configured at the provider (answer, hangup).
 *
 * v1 carried the raw `To`/`From` and Maskline's unsigned query, and routed on `To` whatever number
 * had signed the request: it is gone, not kept beside v2.
 */
export const RouteCall = defineRpc(
  'call-router',
  'call-router.route.v2',
  z
    .object({
      provider: telephonyProviderSchema,
      stage: voiceStageSchema,
      virtualNumber: e164Schema,
      accountId: mainAccountIdSchema,
      /**
       * The number's holder within the account when the gateway verified the webhook (a subaccount;
       * null: the main account). Absent (a gateway of an earlier release): PIN entries count as on the
       * main account's numbers, and whether the number has moved within the account since is not checked.
       */
      subaccountId: subaccountIdSchema.nullable().optional(),
      /** The call's A leg. */
      callId: z.string().min(1).max(64),
      /** The other end of the A leg: who called the virtual number, or whom Maskline called from it. */
      caller: z.string().max(32),
      context: followUpSchema.nullable(),
      digits: z.string().max(32).optional(),
      /** Dialled leg: its status (`completed`, `busy`, `no-answer`, `failed`, `ringing`, `answered`...), id, durations. */
      legStatus: z.string().max(32).optional(),
      legCallId: z.string().max(64).optional(),
      durationSeconds: z.number().int().nonnegative().optional(),
      billedDurationSeconds: z.number().int().nonnegative().optional(),
      hangupCause: z.string().max(64).optional(),
      /** A recording of the bridged call started, finished or could not be made. */
      recording: z
        .object({
          status: z.enum(['initiated', 'completed', 'failed']),
          id: z.string().max(64).optional(),
          url: z.string().max(2048).optional(),
          durationSeconds: z.number().int().nonnegative().optional(),
        })
        .strict()
        .optional(),
    })
    .strict(),
  z.object({ actions: z.array(callActionSchema) }),
);
