import { z } from 'zod';

/** E.164 with the leading `+`: the canonical form for every phone number inside Maskline. */
export const e164Schema = z
  .string()
  .regex(/^\+[1-9][0-9]{6,14}$/, 'must be an E.164 number such as +14155550100');

/** A Plivo-style account key: `MA` + 18 (main account) or `SA` + 18 (subaccount). */
export const accountIdSchema = z.string().regex(/^(MA|SA)[A-Z0-9]{18}$/, 'must be an account auth id');

export const uuidSchema = z.string().uuid();

/** An ISO-8601 timestamp string, as every payload carries times. */
export const isoTimeSchema = z.string().datetime({ offset: true });
