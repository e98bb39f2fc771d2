import { z } from 'zod';
import { e164Schema, isoTimeSchema, uuidSchema } from '../common/primitives.schema';
import { mainAccountIdSchema, subaccountIdSchema } from '../common/account-scope.schema';

export const httpMethodSchema = z.enum(['GET', 'POST']);
const url = z.string().url().max(2048);

/** The settings a session is created with (the updatable ones can change later). */
export const sessionSettingsSchema = z
  .object({
    sessionExpirySeconds: z
      .number()
      .int()
      .min(1)
      .max(90 * 86400),
    callTimeLimitSeconds: z.number().int().min(1).max(86400),
    ringTimeoutSeconds: z.number().int().min(1).max(300),
    initiateCallToFirstParty: z.boolean(),
    callbackUrl: url.nullable(),
    callbackMethod: httpMethodSchema,
    record: z.boolean(),
    recordFileFormat: z.enum(['mp3', 'wav']),
    recordingCallbackUrl: url.nullable(),
    recordingCallbackMethod: httpMethodSchema,
    firstPartyPlayUrl: url.nullable(),
    secondPartyPlayUrl: url.nullable(),
    isPinAuthenticationRequired: z.boolean(),
    generatePin: z.boolean(),
    generatePinLength: z.number().int().min(4).max(15),
    pinPromptPlay: url.nullable(),
    pinRetry: z.number().int().min(0).max(5),
    pinRetryWaitSeconds: z.number().int().min(5).max(10),
    incorrectPinPlay: url.nullable(),
    unknownCallerPlay: url.nullable(),
    forcePinAuthentication: z.boolean(),
    createSessionWithSingleParty: z.boolean(),
    virtualNumberCooloffSeconds: z.number().int().min(0).max(3600),
    geomatch: z.boolean(),
  })
  .strict();
export type SessionSettings = z.infer<typeof sessionSettingsSchema>;

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
  firstParty: e164Schema.nullable(),
  secondParty: e164Schema.nullable(),
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
