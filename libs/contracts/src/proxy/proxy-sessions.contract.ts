import { proxyRefSchema, proxySidRefSchema } from './proxy-ref';
import { z } from 'zod';
import { defineRpc, readingHistory, scopeAccount } from '../contract';
import { accountScopeSchema, mainAccountIdSchema, subaccountIdSchema } from '../common/account-scope.schema';
import { zodOf } from '../common/field-kind';
import { e164Schema, isoTimeSchema, uuidSchema } from '../common/primitives.schema';
import { messageDirectionSchema } from '../messages/messages.contract';
import { twilioSidSchema } from '../common/twilio-sid';
import { storedPartySchema } from '../common/party-number';
import { canonicalE164Schema } from '../common/canonical-number';
import { interactionSchema } from '../sessions/session.schema';
import { PROXY_SESSION_FIELDS, PROXY_SESSION_MODES } from './proxy-session-fields';
import { pagedWithinReach, proxyPageShape, proxyServiceSidSchema } from './proxy-services.contract';

export const proxySessionSidSchema = twilioSidSchema('KC');
export const proxyParticipantSidSchema = twilioSidSchema('KP');
export const proxyInteractionSidSchema = twilioSidSchema('KI');

/** A Twilio Proxy Session as services see it: an engine session, told in Twilio's terms. */
export const proxySessionSchema = z.object({
  sid: proxySessionSidSchema,
  serviceSid: proxyServiceSidSchema,
  accountId: mainAccountIdSchema,
  subaccountId: subaccountIdSchema.nullable(),
  uniqueName: z.string().nullable(),
  /** `open` until its first interaction, then `in-progress`; `closed` once ended. */
  status: z.enum(['open', 'in-progress', 'closed', 'failed']),
  closedReason: z.string().nullable(),
  ttl: z.number().int().nonnegative(),
  mode: z.enum(PROXY_SESSION_MODES),
  dateStarted: isoTimeSchema,
  dateEnded: isoTimeSchema.nullable(),
  dateLastInteraction: isoTimeSchema.nullable(),
  /** When it ends unless an interaction comes first (null: no limit). */
  dateExpiry: isoTimeSchema.nullable(),
  createdAt: isoTimeSchema,
  updatedAt: isoTimeSchema,
});
export type ProxySession = z.infer<typeof proxySessionSchema>;

export const proxyParticipantSchema = z.object({
  sid: proxyParticipantSidSchema,
  sessionSid: proxySessionSidSchema,
  serviceSid: proxyServiceSidSchema,
  accountId: mainAccountIdSchema,
  friendlyName: z.string().nullable(),
  /** E.164; a keyed digest once the ended session's parties are redacted. */
  identifier: storedPartySchema,
  proxyIdentifier: e164Schema,
  createdAt: isoTimeSchema,
  updatedAt: isoTimeSchema,
});
export type ProxyParticipant = z.infer<typeof proxyParticipantSchema>;

/** A participant as a create names it (Twilio's `Identifier`, `FriendlyName`, `ProxyIdentifier`). */
export const participantRequestSchema = z
  .object({
    /** Canonical whoever names it: refused as one of the account's own numbers in any spelling. */
    identifier: canonicalE164Schema,
    friendlyName: z.string().min(1).max(255).nullable().default(null),
    /** The proxy number asked for; reserved numbers of the Service are given only this way. */
    proxyIdentifier: canonicalE164Schema.nullable().default(null),
  })
  .strict();
export type ParticipantRequest = z.infer<typeof participantRequestSchema>;

/** An interaction of a Proxy Session: the engine's, with its SID and its participants. */
export const proxyInteractionSchema = z.object({
  sid: proxyInteractionSidSchema,
  sessionSid: proxySessionSidSchema,
  serviceSid: proxyServiceSidSchema,
  accountId: mainAccountIdSchema,
  /** The participant who called or texted, and the one reached (null: no such participant now). */
  inboundParticipantSid: proxyParticipantSidSchema.nullable(),
  outboundParticipantSid: proxyParticipantSidSchema.nullable(),
  interaction: interactionSchema,
});
export type ProxyInteraction = z.infer<typeof proxyInteractionSchema>;

const ref = proxyRefSchema;
const inService = { scope: accountScopeSchema, service: ref };
const inSession = { ...inService, session: ref };

export const CreateProxySession = defineRpc(
  'session-service',
  'session-service.proxy-sessions.create.v1',
  z
    .object({
      ...inService,
      uniqueName: zodOf(PROXY_SESSION_FIELDS.uniqueName.kind).optional(),
      ttl: zodOf(PROXY_SESSION_FIELDS.ttl.kind).optional(),
      mode: zodOf(PROXY_SESSION_FIELDS.mode.kind).optional(),
      dateExpiry: isoTimeSchema.optional(),
      participants: z.array(participantRequestSchema).max(2).default([]),
    })
    .strict(),
  proxySessionSchema,
);

export const GetProxySession = readingHistory(
  defineRpc(
    'session-service',
    'session-service.proxy-sessions.get.v1',
    z.object(inSession).strict(),
    proxySessionSchema,
  ),
  'lookup',
  scopeAccount,
);

/** Newest first, open and closed alike, a page at a time. */
export const ListProxySessions = readingHistory(
  defineRpc(
    'session-service',
    'session-service.proxy-sessions.list.v1',
    pagedWithinReach(z.object({ ...inService, ...proxyPageShape }).strict()),
    z.object({ sessions: z.array(proxySessionSchema), more: z.boolean() }),
  ),
  'scan',
  scopeAccount,
);

export const UpdateProxySession = readingHistory(
  defineRpc(
    'session-service',
    'session-service.proxy-sessions.update.v1',
    z
      .object({
        ...inSession,
        ttl: zodOf(PROXY_SESSION_FIELDS.ttl.kind).optional(),
        dateExpiry: isoTimeSchema.optional(),
        status: zodOf(PROXY_SESSION_FIELDS.status.kind).optional(),
      })
      .strict(),
    proxySessionSchema,
  ),
  'lookup',
  scopeAccount,
);

/** Closes the Session (if open) and removes it from the Service's list. */
export const DeleteProxySession = defineRpc(
  'session-service',
  'session-service.proxy-sessions.delete.v1',
  z.object(inSession).strict(),
  z.object({ deleted: z.literal(true) }),
);

export const CreateProxyParticipant = defineRpc(
  'session-service',
  'session-service.proxy-participants.create.v1',
  z.object({ ...inSession, participant: participantRequestSchema }).strict(),
  proxyParticipantSchema,
);

export const ListProxyParticipants = defineRpc(
  'session-service',
  'session-service.proxy-participants.list.v1',
  z.object(inSession).strict(),
  z.object({ participants: z.array(proxyParticipantSchema) }),
);

export const GetProxyParticipant = defineRpc(
  'session-service',
  'session-service.proxy-participants.get.v1',
  z.object({ ...inSession, participantSid: proxySidRefSchema }).strict(),
  proxyParticipantSchema,
);

/**
 * A Session's interactions, newest first, a page at a time: all of them, the one with this SID,
 * or the messages sent through the API to this participant (its MessageInteractions).
 */
export const ListProxyInteractions = readingHistory(
  defineRpc(
    'session-service',
    'session-service.proxy-interactions.list.v1',
    pagedWithinReach(
      z
        .object({
          ...inSession,
          ...proxyPageShape,
          sid: proxySidRefSchema.optional(),
          sentThroughApiTo: proxySidRefSchema.optional(),
        })
        .strict(),
    ),
    z.object({ interactions: z.array(proxyInteractionSchema), more: z.boolean() }),
  ),
  'lookup',
  scopeAccount,
);

/**
 * Where a message sent through the API to a participant goes (Twilio's MessageInteraction): the
 * participant's number, from the session's; refused when the session is closed or voice-only.
 */
export const PrepareProxyMessage = defineRpc(
  'session-service',
  'session-service.proxy-messages.prepare.v1',
  z.object({ ...inSession, participantSid: proxySidRefSchema }).strict(),
  z.object({
    accountId: mainAccountIdSchema,
    sessionId: uuidSchema,
    sessionSid: proxySessionSidSchema,
    serviceSid: proxyServiceSidSchema,
    participantSid: proxyParticipantSidSchema,
    virtualNumber: e164Schema,
    to: e164Schema,
    direction: messageDirectionSchema,
  }),
);

/**
 * Ends and deletes every Session of a Service (the Service is being deleted): their numbers and
 * names go back. Idempotent; by SID, so it works after the Service is gone too.
 */
export const CloseProxyServiceSessions = defineRpc(
  'session-service',
  'session-service.proxy-sessions.close-service.v1',
  z.object({ scope: accountScopeSchema, serviceSid: proxyServiceSidSchema }).strict(),
  z.object({ closed: z.number().int().nonnegative() }),
);

/** Deletes an interaction's record (a call's steps, or a message's outcome); the Session is unchanged. */
export const DeleteProxyInteraction = readingHistory(
  defineRpc(
    'session-service',
    'session-service.proxy-interactions.delete.v1',
    z.object({ ...inSession, sid: proxySidRefSchema }).strict(),
    z.object({ deleted: z.literal(true) }),
  ),
  'scan',
  scopeAccount,
);
