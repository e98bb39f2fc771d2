import { z } from 'zod';
import { twilioSidSchema } from '../common/twilio-sid';
import { storedPartySchema } from '../common/party-number';
import { defineRpc, withPreviousVersion } from '../contract';
import { mainAccountIdSchema, subaccountIdSchema } from '../common/account-scope.schema';
import { e164Schema, isoTimeSchema, uuidSchema } from '../common/primitives.schema';
import { telephonyProviderSchema } from '../number-pool/virtual-number.schema';
import { sessionSettingsSchema } from '../sessions/session.schema';

/** What routing needs to know about a live session. */
export const routingSessionSchema = z.object({
  sessionId: uuidSchema,
  accountId: mainAccountIdSchema,
  subaccountId: subaccountIdSchema.nullable(),
  virtualNumber: e164Schema,
  /** E.164 while it lives; the digest once an ended session is redacted (a late webhook's lookup). */
  firstParty: storedPartySchema.nullable(),
  secondParty: storedPartySchema.nullable(),
  status: z.enum(['active', 'expired']),
  expiresAt: isoTimeSchema,
  createdAt: isoTimeSchema,
  /**
   * The session's stored modifiedAt (absent from an older session-service): when its last change was
   * made, later than the change before it (changes of one session take turns, each after the last
   * one's time, whatever the replica's clock says). The later view wins.
   */
  modifiedAt: isoTimeSchema.optional(),
  settings: sessionSettingsSchema,
  /** The Twilio Proxy Service of a session made through that API (its intercept applies). */
  proxyServiceSid: twilioSidSchema('KS').optional(),
});
export type RoutingSession = z.infer<typeof routingSessionSchema>;

const routingPageSchema = z.object({ sessions: z.array(routingSessionSchema), more: z.boolean() });

/**
 * A page of live sessions by offset: what a call router of an earlier release asks (still answered
 * during a rolling upgrade). A session on an earlier page that ended during the load moved every later
 * one back by one, so one was never read.
 */
export const GetRoutingSnapshotByOffset = defineRpc(
  'session-service',
  'session-service.sessions.routing-snapshot.v1',
  z.object({ offset: z.number().int().min(0), limit: z.number().int().min(1).max(1000) }).strict(),
  routingPageSchema,
);

/**
 * A page of live sessions for a call router that is (re)building its index: those after `after` in
 * id order (`next` of the page before; null for the first), whatever ended meanwhile. `next` is the
 * last id the page looked at (a Proxy session without a number yet is looked at, not given). `offset`
 * is for a session-service of an earlier release, asked by offset when only it answers.
 */
export const GetRoutingSnapshot = withPreviousVersion(
  defineRpc(
    'session-service',
    'session-service.sessions.routing-snapshot.v2',
    z
      .object({
        after: uuidSchema.nullable(),
        offset: z.number().int().min(0),
        limit: z.number().int().min(1).max(1000),
      })
      .strict(),
    routingPageSchema.extend({ next: uuidSchema.nullable() }),
  ),
  GetRoutingSnapshotByOffset,
  {
    request: ({ offset, limit }) => ({ offset, limit }),
    reply: (page) => ({ ...page, next: null }),
  },
);

/**
 * The live sessions on one virtual number, whole: what a call router of an earlier release asks
 * (still answered during a rolling upgrade). A number with many sessions, or sessions with long
 * settings, made a reply NATS could not carry.
 */
export const GetSessionsOnNumberWhole = defineRpc(
  'session-service',
  'session-service.sessions.on-number.v1',
  z.object({ virtualNumber: e164Schema }).strict(),
  z.object({ sessions: z.array(routingSessionSchema) }),
);

/**
 * The live sessions on one virtual number (the router's fallback on an index miss), page after page
 * in id order: those after `after` (`next` of the page before; null for the first), as many as fit
 * a reply (`pageWithinReplyBudget`). A session-service of an earlier release answers whole.
 */
export const GetSessionsOnNumber = withPreviousVersion(
  defineRpc(
    'session-service',
    'session-service.sessions.on-number.v2',
    z.object({ virtualNumber: e164Schema, after: uuidSchema.nullable() }).strict(),
    routingPageSchema.extend({ next: uuidSchema.nullable() }),
  ),
  GetSessionsOnNumberWhole,
  {
    request: ({ virtualNumber }) => ({ virtualNumber }),
    reply: ({ sessions }) => ({ sessions, more: false, next: null }),
  },
);

export const GetRoutingSession = defineRpc(
  'session-service',
  'session-service.sessions.routing-view.v1',
  z.object({ sessionId: uuidSchema }).strict(),
  z.object({ session: routingSessionSchema.nullable() }),
);

/** Who owns a number and how its provider signs webhooks (internal: carries the provider token). */
export const GetNumberRouting = defineRpc(
  'number-pool',
  'number-pool.numbers.routing.v1',
  z.object({ number: e164Schema }).strict(),
  z.object({
    accountId: mainAccountIdSchema,
    subaccountId: subaccountIdSchema.nullable(),
    provider: telephonyProviderSchema,
    status: z.enum(['active', 'deleted']),
    credentials: z.object({ accountId: z.string(), authToken: z.string() }).nullable(),
    fallbackAnswerUrl: z.string().nullable(),
    /** Absent from a number-pool before message masking: none. */
    fallbackMessage: z.string().nullable().default(null),
    /** Whether messages may be sent from the number (absent from an older number-pool: yes). */
    smsEnabled: z.boolean().default(true),
    /** The Twilio Proxy Service the number serves, if any (absent from an older number-pool: none). */
    proxyServiceSid: twilioSidSchema('KS').nullable().default(null),
    /**
     * Whether the number's provider confirmed that the provider account of its credentials, as they
     * are now, holds it (asked at add, at a change of credentials or provider, and by number-pool's
     * sweep; absent from an older number-pool: no). Only such a number is taken for one of
     * Maskline's own when it calls in: any other may be a person's phone a tenant added.
     */
    heldConfirmed: z.boolean().default(false),
  }),
);
