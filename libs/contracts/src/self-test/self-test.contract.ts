import { z } from 'zod';
import { defineEvent, defineRpc } from '../contract';
import { isoTimeSchema, uuidSchema } from '../common/primitives.schema';

/**
 * The operator self-test proves the wiring end to end: gateway → session-service (store write
 * and read) → a durable event → callback-dispatcher, which records its receipt.
 */
export const RunSelfTestProbe = defineRpc(
  'session-service',
  'session-service.self-test.run.v1',
  z.object({ probeId: uuidSchema }).strict(),
  z.object({
    probeId: uuidSchema,
    storedAt: isoTimeSchema,
    readBack: z.boolean(),
    eventSequence: z.number().int().nonnegative(),
  }),
);

export const SelfTestProbeRecorded = defineEvent(
  'MASKLINE_EVENTS',
  'events.self-test.probe-recorded.v1',
  z.object({ probeId: uuidSchema, storedAt: isoTimeSchema }).strict(),
);

export const GetSelfTestReceipt = defineRpc(
  'callback-dispatcher',
  'callback-dispatcher.self-test.receipt.v1',
  z.object({ probeId: uuidSchema }).strict(),
  z.object({
    probeId: uuidSchema,
    received: z.boolean(),
    receivedAt: isoTimeSchema.optional(),
    /** The event's sequence on the stream, as the consumer saw it. */
    streamSequence: z.number().int().positive().optional(),
  }),
);
