import { z } from 'zod';
import { sessionSettingsSchema } from './session-fields';

export { sessionSettingsSchema, type SessionSettings } from './session-fields';
import { e164Schema, isoTimeSchema, uuidSchema } from '../common/primitives.schema';
import { mainAccountIdSchema, subaccountIdSchema } from '../common/account-scope.schema';
import { storedPartySchema } from '../common/party-number';

export const httpMethodSchema = z.enum(['GET', 'POST']);

export const interactionSchema = z.object({
  callId: z.string(),
  startTime: isoTimeSchema,
  endTime: isoTimeSchema.nullable(),
  firstPartyCallUuid: z.string().nullable(),
  secondPartyCallUuid: z.string().nullable(),
  firstPartyStatus: z.string().nullable(),
  secondPartyStatus: z.string().nullable(),
  durationSeconds: z.number().int().nonnegative(),
  billedDurationSeconds: z.number().int().nonnegative(),
  recordingUrl: z.string().nullable(),
  legs: z.number().int().nonnegative(),
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
  lastInteractionTime: isoTimeSchema.nullable(),
});
export type SessionView = z.infer<typeof sessionViewSchema>;
