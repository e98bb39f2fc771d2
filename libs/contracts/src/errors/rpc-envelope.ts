import { z } from 'zod';
import type { WireError } from './coded-error';

/** Every NATS reply is one of these, so an error always arrives with its code. */
export type RpcEnvelope<T> = { ok: true; data: T } | { ok: false; error: WireError };

export const wireErrorSchema = z.object({
  code: z.string().min(1),
  message: z.string(),
  field: z.string().optional(),
  details: z.record(z.unknown()).optional(),
  retryable: z.boolean().optional(),
});

export const rpcEnvelopeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), data: z.unknown() }),
  z.object({ ok: z.literal(false), error: wireErrorSchema }),
]);
