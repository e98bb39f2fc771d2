import { z } from 'zod';
import { twilioSidSchema } from '../common/twilio-sid';
import { storedPartySchema } from '../common/party-number';
import { defineRpc } from '../contract';
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
  /** When the view was read from the store (absent from an older session-service): the later view wins. */
  modifiedAt: isoTimeSchema.optional(),
  settings: sessionSettingsSchema,
  /** The Twilio Proxy Service of a session made through that API (its intercept applies). */
  proxyServiceSid: twilioSidSchema('KS').optional(),
});
export type RoutingSession = z.infer<typeof routingSessionSchema>;

/** A page of live sessions for a call router that is (re)building its index. */
export const GetRoutingSnapshot = defineRpc(
  'session-service',
  'session-service.sessions.routing-snapshot.v1',
  z.object({ offset: z.number().int().min(0), limit: z.number().int().min(1).max(1000) }).strict(),
  z.object({ sessions: z.array(routingSessionSchema), more: z.boolean() }),
);

/** The live sessions on one virtual number (the router's fallback on an index miss). */
export const GetSessionsOnNumber = defineRpc(
  'session-service',
  'session-service.sessions.on-number.v1',
  z.object({ virtualNumber: e164Schema }).strict(),
  z.object({ sessions: z.array(routingSessionSchema) }),
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
  }),
);
