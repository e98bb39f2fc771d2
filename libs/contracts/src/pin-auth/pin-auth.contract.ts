import { z } from 'zod';
import { defineEvent, defineRpc } from '../contract';
import { accountScopeSchema, mainAccountIdSchema, subaccountIdSchema } from '../common/account-scope.schema';
import { e164Schema, isoTimeSchema, uuidSchema } from '../common/primitives.schema';

export const pinSchema = z.string().regex(/^\d{4,15}$/, 'must be 4 to 15 digits');
export const partyRoleSchema = z.enum(['first', 'second']);
export type PartyRole = z.infer<typeof partyRoleSchema>;

/**
 * Registers a session's two PINs on its virtual number: supplied (they must differ) or generated
 * (`generateLength` digits from a CSPRNG). Idempotent per session. Refuses with PIN.CAPACITY or
 * PIN.CONFLICT when the number cannot take them.
 */
export const RegisterSessionPins = defineRpc(
  'pin-auth',
  'pin-auth.register.v1',
  z
    .object({
      scope: accountScopeSchema,
      sessionId: uuidSchema,
      virtualNumber: e164Schema,
      pins: z.discriminatedUnion('mode', [
        z.object({ mode: z.literal('supplied'), first: pinSchema, second: pinSchema }).strict(),
        z.object({ mode: z.literal('generated'), length: z.number().int().min(4).max(15) }).strict(),
      ]),
    })
    .strict()
    .refine((r) => r.pins.mode !== 'supplied' || r.pins.first !== r.pins.second, {
      message: 'first_party_pin and second_party_pin must differ',
      path: ['pins', 'second'],
    }),
  z.object({ first: pinSchema, second: pinSchema }),
);

/** The PINs of a session, for the session API to show (as Plivo does). */
export const RevealSessionPins = defineRpc(
  'pin-auth',
  'pin-auth.reveal.v1',
  z.object({ scope: accountScopeSchema, sessionId: uuidSchema }).strict(),
  z.object({ first: pinSchema, second: pinSchema }),
);

/** The PINs of several sessions (a list page) in one call; sessions without live PINs are left out. */
export const RevealPinsOfSessions = defineRpc(
  'pin-auth',
  'pin-auth.reveal-many.v1',
  z.object({ scope: accountScopeSchema, sessionIds: z.array(uuidSchema).max(100) }).strict(),
  z.object({ pins: z.record(uuidSchema, z.object({ first: pinSchema, second: pinSchema })) }),
);

/** Frees a session's PINs when it ends. Idempotent. */
export const ReleaseSessionPins = defineRpc(
  'pin-auth',
  'pin-auth.release.v1',
  z.object({ scope: accountScopeSchema, sessionId: uuidSchema }).strict(),
  z.object({ released: z.number().int().nonnegative() }),
);

/**
 * The most sessions on one number a registered caller's PIN is checked against (`onlySessions`): a
 * phone is a party of one live session per number (a pair is held once), more only while the
 * routers' index lags.
 */
export const PIN_CALLER_SESSIONS_MAX = 16;

/**
 * Checks digits a caller typed on a virtual number. Throttled per call, per caller number and per
 * virtual number; `callerRegistered` callers (a party of a live session on the number) are never
 * refused because of the number-wide bar.
 */
export const VerifyPin = defineRpc(
  'pin-auth',
  'pin-auth.verify.v1',
  z
    .object({
      /** The account that owns the virtual number (the call router knows it from the number). */
      accountId: mainAccountIdSchema,
      /**
       * The number's holder within the account (a subaccount; null or absent: the main account).
       * A caller's wrong PINs count, and lock it out, on its holder's numbers alone: one subaccount
       * signs webhooks with any caller number it likes, and must not lock a phone out of its
       * siblings' or its main account's sessions.
       */
      subaccountId: subaccountIdSchema.nullable().optional(),
      virtualNumber: e164Schema,
      digits: z.string().max(32),
      callerNumber: z.string().min(1).max(32),
      callerRegistered: z.boolean(),
      callId: z.string().min(1).max(64),
      /** 1 for the first attempt of this call. */
      attempt: z.number().int().min(1).max(20),
      /** pin_retry + 1 */
      maxAttempts: z.number().int().min(1).max(6),
      /**
       * A caller registered in sessions on the number (a party of a forced-PIN session): the only
       * sessions whose PINs its digits may match, its own. Absent (an unknown caller): any session on
       * the number. Another session's PIN typed by a registered caller is a mismatch, counted against
       * its own bar: otherwise a party of one session could guess others' beyond the number's bar,
       * which never refuses it. (A pin-auth of an earlier release refuses the field: roll it first.)
       */
      onlySessions: z.array(uuidSchema).max(PIN_CALLER_SESSIONS_MAX).optional(),
    })
    .strict(),
  z.discriminatedUnion('outcome', [
    z.object({
      outcome: z.literal('match'),
      accountId: mainAccountIdSchema,
      sessionId: uuidSchema,
      party: partyRoleSchema,
    }),
    z.object({ outcome: z.literal('mismatch'), remainingAttempts: z.number().int().nonnegative() }),
    z.object({
      outcome: z.literal('locked'),
      reason: z.enum(['call', 'caller', 'number']),
      retryAfterSeconds: z.number().int().nonnegative(),
    }),
  ]),
);

/** Plivo's SessionPinAuthenticationStatus, as a durable event for the callback dispatcher. */
export const PinAuthenticationStatus = defineEvent(
  'MASKLINE_EVENTS',
  'events.pin.authentication-status.v1',
  z
    .object({
      accountId: mainAccountIdSchema,
      /** Known on success (and for authorized callers); unknown for a wrong PIN on a shared number. */
      sessionId: uuidSchema.nullable(),
      virtualNumber: e164Schema,
      callerNumber: z.string(),
      callId: z.string(),
      status: z.enum(['success', 'failed', 'AuthorizedCaller']),
      /** Failed attempts so far on this call. */
      retryCounter: z.number().int().nonnegative(),
      at: isoTimeSchema,
    })
    .strict(),
);

/** Lets pin-auth record (and announce) that a registered caller was let through without a PIN. */
export const RecordAuthorizedCaller = defineRpc(
  'pin-auth',
  'pin-auth.authorized-caller.v1',
  z
    .object({
      accountId: mainAccountIdSchema,
      sessionId: uuidSchema,
      virtualNumber: e164Schema,
      callerNumber: z.string().min(1).max(32),
      callId: z.string().min(1).max(64),
    })
    .strict(),
  z.object({ recorded: z.boolean() }),
);
