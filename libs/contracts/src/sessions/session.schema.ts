import { z } from 'zod';
import { sessionSettingsSchema } from './session-fields';

export { sessionSettingsSchema, type SessionSettings } from './session-fields';
import { e164Schema, isoTimeSchema, uuidSchema } from '../common/primitives.schema';
import { mainAccountIdSchema, subaccountIdSchema } from '../common/account-scope.schema';
import { storedPartySchema } from '../common/party-number';
import { sealedTextSchema } from '../common/sealed-text.schema';

export const httpMethodSchema = z.enum(['GET', 'POST']);

export const interactionSchema = z.object({
  /** A call between the parties, or a text message relayed (or not) from one to the other. */
  type: z.enum(['call', 'message']).default('call'),
  /** The call's id; for a message, the inbound message's provider id. */
  callId: z.string(),
  startTime: isoTimeSchema,
  endTime: isoTimeSchema.nullable(),
  firstPartyCallUuid: z.string().nullable(),
  secondPartyCallUuid: z.string().nullable(),
  firstPartyStatus: z.string().nullable(),
  secondPartyStatus: z.string().nullable(),
  durationSeconds: z.number().int().nonnegative(),
  billedDurationSeconds: z.number().int().nonnegative(),
  /** A recording's URL in clear: only from steps stored before recording URLs were sealed. */
  recordingUrl: z.string().nullable(),
  /** A recording's URL as stored, sealed (`RecordingUrlSeal`): the gateway opens it for the view. */
  sealedRecordingUrl: sealedTextSchema.nullable().default(null),
  legs: z.number().int().nonnegative(),
  /** A call's caller: the session's first or second party (recorded for Proxy sessions; else null). */
  callerRole: z.enum(['first', 'second']).nullable().default(null),
  /** A message's: which way it went, its outcome, its segments, the provider's id of the relayed copy. */
  message: z
    .object({
      direction: z.enum(['first-to-second', 'second-to-first']),
      status: z.enum(['relayed', 'failed']),
      failureReason: z.string().nullable(),
      segments: z.number().int().nonnegative(),
      relayedMessageId: z.string().nullable(),
      /** Sent through the API to a party (Twilio's MessageInteraction), not by the other party. */
      viaApi: z.boolean().default(false),
    })
    .nullable()
    .default(null),
});
export type Interaction = z.infer<typeof interactionSchema>;

/** A session as services see it (camelCase, E.164 with `+`); the gateway renders Plivo's shape. */
export const sessionViewSchema = z.object({
  sessionId: uuidSchema,
  accountId: mainAccountIdSchema,
  subaccountId: subaccountIdSchema.nullable(),
  firstParty: storedPartySchema.nullable(),
  secondParty: storedPartySchema.nullable(),
  virtualNumber: e164Schema,
  status: z.enum(['active', 'in-progress', 'expired']),
  createdAt: isoTimeSchema,
  modifiedAt: isoTimeSchema,
  expiresAt: isoTimeSchema,
  durationSeconds: z.number().int(),
  settings: sessionSettingsSchema,
  firstPartyPin: z.string().nullable(),
  secondPartyPin: z.string().nullable(),
  interactions: z.array(interactionSchema),
  totalCallCount: z.number().int(),
  totalCallBilledDurationSeconds: z.number().int(),
  /** Messages through the session, relayed or failed (absent from a session-service before them). */
  totalMessageCount: z.number().int().default(0),
  lastInteractionTime: isoTimeSchema.nullable(),
});
export type SessionView = z.infer<typeof sessionViewSchema>;
