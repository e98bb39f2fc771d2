import { z } from 'zod';
import { defineEvent, defineRpc, namedAccount, readingHistory, scopeAccount } from '../contract';
import { accountScopeSchema, mainAccountIdSchema } from '../common/account-scope.schema';
import { STATS_WINDOW_MAX_HOURS } from '../common/hourly-window';
import { isoTimeSchema, uuidSchema } from '../common/primitives.schema';

export const deliveryAttemptSchema = z.object({
  eventId: z.string(),
  eventName: z.string(),
  sessionId: uuidSchema,
  url: z.string(),
  method: z.enum(['GET', 'POST']),
  attempt: z.number().int(),
  at: isoTimeSchema,
  outcome: z.enum(['delivered', 'retry', 'failed', 'circuit-open']),
  statusCode: z.number().int().nullable(),
  latencyMs: z.number().int().nullable(),
  error: z.string().nullable(),
});
export type DeliveryAttempt = z.infer<typeof deliveryAttemptSchema>;

export const deadLetterSchema = z.object({
  eventId: z.string(),
  eventName: z.string(),
  sessionId: uuidSchema,
  url: z.string(),
  reason: z.string(),
  attempts: z.number().int(),
  at: isoTimeSchema,
  replayedAt: isoTimeSchema.nullable(),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

/** Every attempt and dead letter of a session's callbacks. */
export const ListCallbackAttempts = readingHistory(
  defineRpc(
    'callback-dispatcher',
    'callback-dispatcher.attempts.list.v1',
    z.object({ scope: accountScopeSchema, sessionId: uuidSchema }).strict(),
    z.object({ attempts: z.array(deliveryAttemptSchema), deadLetters: z.array(deadLetterSchema) }),
  ),
  'lookup',
  scopeAccount,
);

export const ListDeadLetters = readingHistory(
  defineRpc(
    'callback-dispatcher',
    'callback-dispatcher.dead-letters.list.v1',
    z
      .object({
        scope: accountScopeSchema,
        limit: z.number().int().min(1).max(20),
        offset: z.number().int().min(0),
      })
      .strict(),
    z.object({ total: z.number().int(), objects: z.array(deadLetterSchema) }),
  ),
  'scan',
  scopeAccount,
);

/** Replays one dead letter (by event id) or all of the account's that were not replayed yet. */
export const ReplayDeadLetters = readingHistory(
  defineRpc(
    'callback-dispatcher',
    'callback-dispatcher.dead-letters.replay.v1',
    z.object({ scope: accountScopeSchema, eventId: z.string().max(128).optional() }).strict(),
    z.object({ replayed: z.number().int() }),
  ),
  'scan',
  scopeAccount,
);

/** A dead letter sent around again: the dispatcher delivers it with fresh attempts. */
export const CallbackReplayRequested = defineEvent(
  'MASKLINE_EVENTS',
  'events.callback.replay-requested.v1',
  z
    .object({ accountId: mainAccountIdSchema, eventId: z.string(), replayId: z.string(), at: isoTimeSchema })
    .strict(),
);

/**
 * How an account's callbacks fared over the last hours: per hour (every hour present, oldest
 * first), the share delivered, and the endpoints that fail most.
 */
export const GetCallbackStats = readingHistory(
  defineRpc(
    'callback-dispatcher',
    'callback-dispatcher.stats.v1',
    z
      .object({ accountId: mainAccountIdSchema, hours: z.number().int().min(1).max(STATS_WINDOW_MAX_HOURS) })
      .strict(),
    z.object({
      /** True when the window held more attempts than one read takes: the figures cover the newest. */
      capped: z.boolean(),
      buckets: z.array(
        z.object({
          at: isoTimeSchema,
          delivered: z.number().int(),
          failed: z.number().int(),
          retried: z.number().int(),
          p50LatencyMs: z.number().int().nullable(),
          p95LatencyMs: z.number().int().nullable(),
        }),
      ),
      /** Delivered ÷ callbacks that reached an end (delivered or failed); null when none did. */
      successRate: z.number().min(0).max(1).nullable(),
      failingEndpoints: z.array(
        z.object({
          url: z.string(),
          failures: z.number().int(),
          lastStatusCode: z.number().int().nullable(),
          lastError: z.string().nullable(),
          lastAt: isoTimeSchema,
        }),
      ),
    }),
  ),
  'scan',
  namedAccount,
);
