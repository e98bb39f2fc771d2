import { z } from 'zod';
import { defineRpc, namedAccount, readingHistory } from '../contract';
import { mainAccountIdSchema } from '../common/account-scope.schema';
import { STATS_WINDOW_MAX_HOURS } from '../common/hourly-window';
import { e164Schema, isoTimeSchema, uuidSchema } from '../common/primitives.schema';

/** What became of one PIN entry (or of a registered caller let through without one). */
export const pinAttemptOutcomeSchema = z.enum(['success', 'failed', 'locked', 'authorized-caller']);
export type PinAttemptOutcome = z.infer<typeof pinAttemptOutcomeSchema>;

/**
 * One PIN entry as the console shows it: never the digits, and the caller only masked (its last four
 * digits) with a keyed digest to group by.
 */
export const pinAttemptSchema = z.object({
  at: isoTimeSchema,
  callId: z.string(),
  virtualNumber: e164Schema,
  callerMasked: z.string(),
  callerKey: z.string(),
  outcome: pinAttemptOutcomeSchema,
  /** For a lock: what was locked (this call, the caller, the number). */
  lockReason: z.enum(['call', 'caller', 'number']).nullable(),
  /** 1 for the first entry of the call. */
  attempt: z.number().int(),
  sessionId: uuidSchema.nullable(),
});
export type PinAttempt = z.infer<typeof pinAttemptSchema>;

/**
 * The PIN entries of one session: those that matched it, and every other entry of the same calls
 * (the wrong PINs typed before the right one). The caller checks that the session is the account's.
 */
export const ListPinAttempts = readingHistory(
  defineRpc(
    'pin-auth',
    'pin-auth.attempts.list.v1',
    z.object({ accountId: mainAccountIdSchema, sessionId: uuidSchema }).strict(),
    z.object({ attempts: z.array(pinAttemptSchema) }),
  ),
  'lookup',
  namedAccount,
);

const countsSchema = z.object({
  successes: z.number().int(),
  failures: z.number().int(),
  lockouts: z.number().int(),
});

/** An account's PIN entries over the last hours: per hour, by virtual number and by caller. */
export const GetPinSecurity = readingHistory(
  defineRpc(
    'pin-auth',
    'pin-auth.security.v1',
    z
      .object({
        accountId: mainAccountIdSchema,
        hours: z.number().int().min(1).max(STATS_WINDOW_MAX_HOURS),
      })
      .strict(),
    z.object({
      /** True when the window held more entries than one read takes: the counts cover the newest. */
      capped: z.boolean(),
      buckets: z.array(countsSchema.extend({ at: isoTimeSchema })),
      byNumber: z.array(countsSchema.extend({ virtualNumber: e164Schema })),
      byCaller: z.array(countsSchema.extend({ callerMasked: z.string(), callerKey: z.string() })),
    }),
  ),
  'scan',
  namedAccount,
);
