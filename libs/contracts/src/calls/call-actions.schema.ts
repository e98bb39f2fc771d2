import { z } from 'zod';

/**
 * A routing decision in neither dialect: the gateway renders it as Plivo XML or TwiML.
 * `path`s are relative to `/voice/<provider>/` and carry the call's context in their query string
 * (the provider signs the full URL, so the context cannot be tampered with).
 */
export const callActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('play'), url: z.string().url() }),
  z.object({ type: z.literal('say'), text: z.string().max(500) }),
  z.object({ type: z.literal('pause'), seconds: z.number().int().min(1).max(60) }),
  z.object({
    type: z.literal('gather'),
    path: z.string(),
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
    actionPath: z.string(),
    /** Called as the dialled leg rings and answers. */
    eventsPath: z.string(),
    /** Called as the recording starts and when its file is ready (with `record`). */
    recordingPath: z.string().optional(),
  }),
  z.object({ type: z.literal('hangup') }),
  /** Hand the call to another application (the number's fallback_answer_url). */
  z.object({ type: z.literal('redirect'), url: z.string().url() }),
]);
export type CallAction = z.infer<typeof callActionSchema>;
