import { z } from 'zod';
import { defineRpc } from '../contract';
import { telephonyProviderSchema } from '../number-pool/virtual-number.schema';
import { callActionSchema } from './call-actions.schema';

/**
 * A provider webhook, reduced to what routing needs. The gateway has already checked its
 * signature; `query` is the follow-up context Maskline put in its own URLs.
 */
export const RouteCall = defineRpc(
  'call-router',
  'call-router.route.v1',
  z
    .object({
      provider: telephonyProviderSchema,
      stage: z.enum(['answer', 'pin', 'dial-ended', 'dial-event', 'hangup', 'outbound-answer', 'recording']),
      callId: z.string().min(1).max(64),
      from: z.string().max(32),
      to: z.string().max(32),
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
      query: z.record(z.string().max(128)),
    })
    .strict(),
  z.object({ actions: z.array(callActionSchema) }),
);
