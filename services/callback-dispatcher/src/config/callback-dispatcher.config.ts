import { z } from 'zod';
import {
  callbackUrlConfigShape,
  commonServiceConfigShape,
  envInt,
  envList,
  loadConfig,
  privacyConfigShape,
  recordingUrlConfigShape,
  storeConfigShape,
} from '@maskline/config';

export const callbackDispatcherConfigSchema = z.object({
  ...commonServiceConfigShape,
  ...storeConfigShape,
  /** This service's own database. */
  MONGO_DB: z.string().min(1).default('maskline-callbacks'),
  MASKLINE_VERSION: z.string().default('dev'),
  ...callbackUrlConfigShape,
  /** Opens the URLs of call recordings for the recording callbacks. */
  ...recordingUrlConfigShape,
  CALLBACK_CONNECT_TIMEOUT_MS: envInt(3000, 10, 60000),
  CALLBACK_TIMEOUT_MS: envInt(10000, 10, 120000),
  /** The most of a receiver's answer that is read. */
  CALLBACK_MAX_RESPONSE_BYTES: envInt(65536, 0, 10485760),
  /** Seconds to wait before each retry; its length + 1 is the number of attempts (default 9 over about 24 h). */
  CALLBACK_RETRY_SCHEDULE_SECONDS: envList('30,120,600,1800,3600,10800,21600,43200').pipe(
    z.array(z.coerce.number().int().min(1).max(86400)).min(1, 'needs at least one delay'),
  ),
  /** A callback older than this is dead-lettered at its next attempt. */
  CALLBACK_MAX_AGE_SECONDS: envInt(86400, 60, 7 * 86400),
  /** Callback attempts in flight per account and destination host (per replica; 64 in all per replica). */
  CALLBACK_PER_HOST_CONCURRENCY: envInt(8, 1, 1000),
  /** Callback attempts (DNS included) in flight per account (per replica): no tenant holds every slot. */
  CALLBACK_PER_ACCOUNT_CONCURRENCY: envInt(16, 1, 1000),
  /** Per-host breaker: opens on this share of failures, probes again after the reset time. */
  HOST_BREAKER_ERROR_PERCENT: envInt(50, 1, 100),
  /**
   * The most of the bucket of callbacks put off (`maskline-callback-retry-watches`) one account's
   * callbacks may hold, in percent: past it, they are put off unwatched.
   */
  CALLBACK_WATCHES_ACCOUNT_PERCENT: envInt(25, 1, 100),
  HOST_BREAKER_RESET_MS: envInt(30000, 100, 3600000),
  HOST_BREAKER_VOLUME: envInt(5, 1, 10000),
  ...privacyConfigShape,
  /** Days a callback attempt (when, where, status: no numbers) is kept for the attempts API. */
  CALLBACK_ATTEMPT_RETENTION_DAYS: envInt(7, 1, 3650),
  /** Days a dead letter is kept for a replay (replayed or not), then deleted. */
  DEAD_LETTER_RETENTION_DAYS: envInt(30, 1, 3650),
});

export type CallbackDispatcherConfig = z.output<typeof callbackDispatcherConfigSchema>;

export function loadCallbackDispatcherConfig(env: NodeJS.ProcessEnv = process.env): CallbackDispatcherConfig {
  return loadConfig('callback-dispatcher', callbackDispatcherConfigSchema, env);
}

export { SERVICE_CONFIG as CALLBACK_DISPATCHER_CONFIG } from '@maskline/service-kit';
