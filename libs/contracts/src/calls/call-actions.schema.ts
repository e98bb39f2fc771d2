import { z } from 'zod';
import { followUpSchema } from './call-context';

/**
 * A routing decision in neither dialect: the gateway renders it as Plivo XML or TwiML. Where the
 * provider must come back (`next`, `onEnded`, ...), the decision names the follow-up; the gateway
 * turns it into a URL under `/voice/<provider>/<stage>` that carries a signed call context.
 */
export const callActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('play'), url: z.string().url() }),
  z.object({ type: z.literal('say'), text: z.string().max(500) }),
  z.object({ type: z.literal('pause'), seconds: z.number().int().min(1).max(60) }),
  z.object({
    type: z.literal('gather'),
    /** Where the digits go (and an empty entry when the caller types nothing). */
    next: followUpSchema,
    /** Digits to collect before submitting; 0 means "until #". */
    numDigits: z.number().int().min(0).max(20),
    timeoutSeconds: z.number().int().min(1).max(60),
    prompt: z.array(z.union([z.object({ play: z.string().url() }), z.object({ say: z.string().max(500) })])),
  }),
  z.object({
    type: z.literal('dial'),
    number: z.string(),
    callerId: z.string(),
    timeoutSeconds: z.number().int().min(1).max(600),
    timeLimitSeconds: z.number().int().min(1).max(86400),
    record: z.boolean(),
    recordFormat: z.enum(['mp3', 'wav']),
    /** Called when the dial ends (status of the dialled leg). */
    onEnded: followUpSchema,
    /** Called as the dialled leg rings and answers. */
    onLegEvent: followUpSchema,
    /** Called as the recording starts and when its file is ready (with `record`). */
    onRecording: followUpSchema.optional(),
  }),
  z.object({ type: z.literal('hangup') }),
  /** Hand the call to another application (the number's fallback_answer_url). */
  z.object({ type: z.literal('redirect'), url: z.string().url() }),
]);
export type CallAction = z.infer<typeof callActionSchema>;
