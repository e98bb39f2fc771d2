import { datetimeRegex, z } from 'zod';

/** E.164 with the leading `+`: the canonical form for every phone number inside Maskline. */
export const e164Schema = z
  .string()
  .regex(/^\+[1-9][0-9]{6,14}$/, 'must be an E.164 number such as +14155550100');

/** A Plivo-style account key: `MA` + 18 (main account) or `SA` + 18 (subaccount). */
export const accountIdSchema = z.string().regex(/^(MA|SA)[A-Z0-9]{18}$/, 'must be an account auth id');

export const uuidSchema = z.string().uuid();

/**
 * An ISO-8601 timestamp string, as every payload carries times: zod's own `datetime({ offset: true })`
 * rule, its pattern compiled once. zod 3 compiles that pattern (leap years included) anew for every
 * value it checks, and every event carries several times: in the callback dispatcher's CPU profile of
 * a soak it was among the largest costs of decoding an event.
 */
export const isoTimeSchema = z
  .string()
  .regex(datetimeRegex({ offset: true, local: false, precision: null }), 'must be an ISO-8601 date-time');
