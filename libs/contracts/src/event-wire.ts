import { z } from 'zod';
import type { EventContract } from './contract';
import { CodedError } from './errors/coded-error';
import { ErrorCodes } from './errors/error-codes';

/**
 * The header that carries an event's fields added since consumers of an earlier release existed.
 * Those consumers read the body strictly and would refuse (and drop) an event with a field they do
 * not know; they ignore headers. So an added field travels here until every consumer reads bodies
 * tolerantly, and consumers of this release put it back before validating: handlers see one typed
 * payload either way.
 */
export const EVENT_EXTENSION_HEADER = 'Maskline-Event-Extension';

/** The body (what every release reads) and, if any added field is set, the header's value. */
export function eventToWire(
  contract: EventContract,
  payload: Record<string, unknown>,
): { body: Record<string, unknown>; extension?: string } {
  if (contract.inHeader.length === 0) return { body: payload };
  const body: Record<string, unknown> = {};
  const added: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) {
    if (contract.inHeader.includes(key)) {
      if (value !== undefined) added[key] = value;
    } else body[key] = value;
  }
  if (Object.keys(added).length === 0) return { body };
  return { body, extension: Buffer.from(JSON.stringify(added)).toString('base64url') };
}

/** The payload as published: the body with the header's fields put back (the body's win). */
export function eventFromWire(body: unknown, extension: string | undefined): unknown {
  if (!extension || !body || typeof body !== 'object' || Array.isArray(body)) return body;
  let added: unknown;
  try {
    added = JSON.parse(Buffer.from(extension, 'base64url').toString('utf8'));
  } catch (err) {
    throw new CodedError(ErrorCodes.EVENT_INVALID, `${EVENT_EXTENSION_HEADER} is not JSON`, { cause: err });
  }
  if (!added || typeof added !== 'object' || Array.isArray(added)) {
    throw new CodedError(ErrorCodes.EVENT_INVALID, `${EVENT_EXTENSION_HEADER} is not an object of fields`);
  }
  return { ...(added as Record<string, unknown>), ...(body as Record<string, unknown>) };
}

/**
 * The schema a consumer reads an event with: the contract's, but tolerant at every depth of fields
 * it does not know (a newer publisher's, during a rolling upgrade), which it drops. Publishers stay
 * strict.
 */
export function consumerSchemaOf<C extends EventContract>(contract: C): z.ZodTypeAny {
  let schema = TOLERANT.get(contract);
  if (!schema) {
    schema = tolerant(contract.payload as z.ZodTypeAny);
    TOLERANT.set(contract, schema);
  }
  return schema;
}

const TOLERANT = new WeakMap<EventContract, z.ZodTypeAny>();

function tolerant(schema: z.ZodTypeAny): z.ZodTypeAny {
  if (schema instanceof z.ZodObject) {
    const shape = Object.fromEntries(
      Object.entries(schema.shape as Record<string, z.ZodTypeAny>).map(([k, v]) => [k, tolerant(v)]),
    );
    return z.object(shape).strip();
  }
  if (schema instanceof z.ZodOptional) return tolerant(schema.unwrap()).optional();
  if (schema instanceof z.ZodNullable) return tolerant(schema.unwrap()).nullable();
  if (schema instanceof z.ZodArray) return z.array(tolerant(schema.element));
  return schema;
}
