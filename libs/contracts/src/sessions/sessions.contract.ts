import { z } from 'zod';
import { twilioSidSchema } from '../common/twilio-sid';
import { storedPartySchema } from '../common/party-number';
import { defineEvent, defineRpc, readingHistory, scopeAccount } from '../contract';
import { PAGE_LIMIT_MAX, PAGE_OFFSET_MAX } from '../common/paging';
import { accountScopeSchema, mainAccountIdSchema, subaccountIdSchema } from '../common/account-scope.schema';
import { e164Schema, isoTimeSchema, uuidSchema } from '../common/primitives.schema';
import { routingSessionSchema } from '../calls/routing.contract';
import { pinSchema } from '../pin-auth/pin-auth.contract';
import { sealedTextSchema } from '../common/sealed-text.schema';
import { UPDATABLE_SETTINGS } from './session-fields';
import { sessionSettingsSchema, sessionViewSchema } from './session.schema';

/** Creates a session: allocate a number, register PINs, persist, announce. All or nothing. */
export const CreateSession = defineRpc(
  'session-service',
  'session-service.sessions.create.v1',
  z
    .object({
      scope: accountScopeSchema,
      firstParty: e164Schema.nullable(),
      secondParty: e164Schema.nullable(),
      settings: sessionSettingsSchema,
      firstPartyPin: pinSchema.nullable(),
      secondPartyPin: pinSchema.nullable(),
      idempotency: z
        .object({ key: z.string().min(1).max(255), requestHash: z.string().length(64) })
        .nullable(),
    })
    .strict(),
  sessionViewSchema,
);

export const GetSession = readingHistory(
  defineRpc(
    'session-service',
    'session-service.sessions.get.v1',
    z.object({ scope: accountScopeSchema, sessionId: uuidSchema }).strict(),
    sessionViewSchema,
  ),
  'lookup',
  scopeAccount,
);

const range = z
  .object({ gt: z.string(), gte: z.string(), lt: z.string(), lte: z.string(), eq: z.string() })
  .partial();
const numRange = z
  .object({ gt: z.number(), gte: z.number(), lt: z.number(), lte: z.number(), eq: z.number() })
  .partial();

export const ListSessions = readingHistory(
  defineRpc(
    'session-service',
    'session-service.sessions.list.v1',
    z
      .object({
        scope: accountScopeSchema,
        firstParty: e164Schema.optional(),
        secondParty: e164Schema.optional(),
        /** Either party (Maskline's extension, for the console's search). */
        party: e164Schema.optional(),
        virtualNumber: e164Schema.optional(),
        status: z.enum(['active', 'expired', 'all']),
        /** ISO bounds on the creation time (the gateway parses Plivo's formats). */
        createdTime: range,
        expiryTime: range,
        durationSeconds: numRange,
        limit: z.number().int().min(1).max(PAGE_LIMIT_MAX),
        offset: z.number().int().min(0).max(PAGE_OFFSET_MAX),
      })
      .strict(),
    z.object({ total: z.number().int(), objects: z.array(sessionViewSchema) }),
  ),
  'scan',
  scopeAccount,
);

export const UpdateSession = readingHistory(
  defineRpc(
    'session-service',
    'session-service.sessions.update.v1',
    z
      .object({
        scope: accountScopeSchema,
        sessionId: uuidSchema,
        changes: sessionSettingsSchema
          .pick(UPDATABLE_SETTINGS)
          .partial()
          .extend({ firstParty: e164Schema.optional(), secondParty: e164Schema.optional() })
          .strict(),
      })
      .strict(),
    sessionViewSchema,
  ),
  'lookup',
  scopeAccount,
);

/** Expires a session now (Plivo's DELETE). */
export const ExpireSession = defineRpc(
  'session-service',
  'session-service.sessions.expire.v1',
  z.object({ scope: accountScopeSchema, sessionId: uuidSchema }).strict(),
  z.object({ expired: z.literal(true) }),
);

/**
 * Session events carry the routing view, so routers keep their index from the events alone (no
 * read-back per event). Optional: events from a version before it lack it, and consumers then ask.
 */
const sessionEventBase = {
  accountId: mainAccountIdSchema,
  subaccountId: subaccountIdSchema.nullable(),
  sessionId: uuidSchema,
  virtualNumber: e164Schema,
  firstParty: e164Schema.nullable(),
  secondParty: e164Schema.nullable(),
  at: isoTimeSchema,
  /** The session as a call router needs it (absent from a session-service before it). */
  routing: routingSessionSchema.optional(),
};
/** Added after release 0.1.0, whose consumers read session events strictly: sent in a header. */
const SESSION_EVENT_ADDITIONS = { inHeader: ['routing'] } as const;

export const SessionCreated = defineEvent(
  'MASKLINE_EVENTS',
  'events.session.created.v1',
  z.object({ ...sessionEventBase, expiresAt: isoTimeSchema }).strict(),
  SESSION_EVENT_ADDITIONS,
);

/** Why a session ended: its time came, or its owner ended it (DELETE, a Proxy close). */
export const sessionEndReasonSchema = z.enum(['timeout', 'api']);
export type SessionEndReason = z.infer<typeof sessionEndReasonSchema>;

/**
 * A session ended: routers drop it; its owner hears Plivo's SessionTimeout (also sent when a
 * session is expired through the API), unless its creation failed.
 */
export const SessionExpired = defineEvent(
  'MASKLINE_EVENTS',
  'events.session.expired.v1',
  z
    .object({
      ...sessionEventBase,
      reason: sessionEndReasonSchema,
      /**
       * Its creation failed (the orphan reaper's verdict): its owner was answered with an error and
       * never had its id, so no callback names it. Still announced: a router may have learned it
       * from the store (a snapshot, a read by number) and must drop it. Absent from a
       * session-service before it, whose ends were all told.
       */
      failedCreation: z.literal(true).optional(),
    })
    .strict(),
  { inHeader: [...SESSION_EVENT_ADDITIONS.inHeader, 'failedCreation'] },
);

/** A session's settings or parties changed (routing caches refresh on it). */
export const SessionUpdated = defineEvent(
  'MASKLINE_EVENTS',
  'events.session.updated.v1',
  z.object({ ...sessionEventBase }).strict(),
  SESSION_EVENT_ADDITIONS,
);

/**
 * What happened on a call through a session, as the call router saw it. session-service builds
 * interactions and totals from these (one stored document per event: no in-place counters).
 */
export const CallProgressed = defineEvent(
  'MASKLINE_EVENTS',
  'events.call.progressed.v1',
  z
    .object({
      accountId: mainAccountIdSchema,
      sessionId: uuidSchema,
      /** The interaction: one per call between the parties. */
      callId: z.string().min(1).max(64),
      /** The session's virtual number (absent only from routers of a version before it). */
      virtualNumber: e164Schema.optional(),
      step: z.enum([
        'first-party-ringing',
        'first-party-answered',
        'second-party-ringing',
        'second-party-answered',
        'first-party-hangup',
        'second-party-hangup',
        'parties-hangup',
        'recording-initiated',
        'recording-completed',
        'recording-failed',
      ]),
      at: isoTimeSchema,
      firstPartyCallUuid: z.string().max(64).nullable().default(null),
      secondPartyCallUuid: z.string().max(64).nullable().default(null),
      status: z.string().max(32).nullable().default(null),
      durationSeconds: z.number().int().nonnegative().default(0),
      billedDurationSeconds: z.number().int().nonnegative().default(0),
      /** In clear only in events from routers before `sealedRecordingUrl`: null from any since. */
      recordingUrl: z.string().max(2048).nullable().default(null),
      /**
       * The recording's URL sealed (`RecordingUrlSeal`, bound to the account, session and call):
       * a provider may serve the audio to whoever holds it, and this event stays in the stream for
       * days. Absent when the step has none.
       */
      sealedRecordingUrl: sealedTextSchema.optional(),
      recordingId: z.string().max(64).nullable().default(null),
      recordingDurationSeconds: z.number().int().nonnegative().default(0),
      recordingFormat: z.enum(['mp3', 'wav']).nullable().default(null),
      /** The number that called (or was called first), and the number dialled out: Plivo's From / To. */
      from: z.string().max(32).nullable().default(null),
      to: z.string().max(32).nullable().default(null),
      hangupCause: z.string().max(64).nullable().default(null),
      /**
       * The session as the router held it when the step happened (absent from routers before it, and
       * when the router did not hold the session): the callback dispatcher learns the session's
       * callback target from it instead of asking session-service, whose answer is a store read.
       */
      routing: routingSessionSchema.optional(),
    })
    .strict(),
  // Added after release 0.1.0, whose consumers read this event strictly: sent in a header.
  { inHeader: ['virtualNumber', 'routing', 'sealedRecordingUrl'] },
);

/** Where a session's callbacks go (asked by the callback dispatcher). */
export const GetCallbackTarget = defineRpc(
  'session-service',
  'session-service.sessions.callback-target.v1',
  z.object({ accountId: mainAccountIdSchema, sessionId: uuidSchema }).strict(),
  z.object({
    subaccountId: subaccountIdSchema.nullable(),
    callbackUrl: z.string().nullable(),
    callbackMethod: z.enum(['GET', 'POST']),
    recordingCallbackUrl: z.string().nullable(),
    recordingCallbackMethod: z.enum(['GET', 'POST']),
    // A session ended long ago shows its parties' digests (a late callback, a replay).
    firstParty: storedPartySchema.nullable(),
    secondParty: storedPartySchema.nullable(),
    virtualNumber: e164Schema,
    /**
     * A Twilio Proxy session's Service: its callbacks go to the Service's callback_url, in Twilio's
     * parameters, signed as Twilio signs (absent from an older session-service: none).
     */
    proxyServiceSid: twilioSidSchema('KS').nullable().default(null),
  }),
);
