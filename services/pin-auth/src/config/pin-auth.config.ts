import { z } from 'zod';
import { commonServiceConfigShape, envInt, loadConfig, secret, storeConfigShape } from '@maskline/config';
import { keyringSchema, keySchema } from '@maskline/crypto';

export const pinAuthConfigSchema = z.object({
  ...commonServiceConfigShape,
  ...storeConfigShape,
  /** This service's own database. */
  MONGO_DB: z.string().min(1).default('maskline-pin-auth'),
  MASKLINE_VERSION: z.string().default('dev'),
  /** HMAC key (base64 of 32 bytes) for PIN digests: a dump of the store reveals no PIN. */
  PIN_DIGEST_KEY: secret(keySchema),
  /** AES-256-GCM keyring for the copies the session API reveals: `id:base64(32 bytes)[,...]`, first active. */
  PIN_ENCRYPTION_KEYS: secret(keyringSchema),
  /** Live PINs of length L on one number never exceed cap × 10^L, so one random guess succeeds with p ≤ cap. */
  PIN_DENSITY_CAP: z.coerce
    .number({ message: 'must be a number' })
    .gt(0, 'must be more than 0')
    .max(0.1, 'must be at most 0.1')
    .default(0.01),
  PIN_MAX_SLOT_TRIES: envInt(1000, 1, 100000),
  CALLER_MAX_FAILURES: envInt(5, 1, 1000),
  CALLER_WINDOW_SECONDS: envInt(900, 10, 7 * 86400),
  CALLER_LOCKOUT_SECONDS: envInt(900, 1, 7 * 86400),
  NUMBER_MAX_FAILURES: envInt(10, 1, 100000),
  NUMBER_WINDOW_SECONDS: envInt(600, 10, 7 * 86400),
  NUMBER_LOCKOUT_SECONDS: envInt(3600, 1, 7 * 86400),
  /** Lockouts double with each repeat in a day, up to this. */
  MAX_LOCKOUT_SECONDS: envInt(86400, 1, 30 * 86400),
  /**
   * New unknown callers (phones in no PIN session on the number) whose wrong PINs an account's
   * numbers (its subaccounts' included) may have counted per UTC day. Each gets a throttle entry of
   * its own in NATS, and a tenant signs its own numbers' webhooks with any caller number it likes:
   * past this, PIN entry is closed to further new unknown callers on them until the day ends.
   * Registered callers, and unknown callers already counted, are not affected.
   */
  UNKNOWN_CALLERS_PER_DAY_MAX: envInt(20000, 1, 10_000_000),
  /** The share of its account's UNKNOWN_CALLERS_PER_DAY_MAX one subaccount's numbers may take (1 to 100). */
  UNKNOWN_CALLERS_SUBACCOUNT_PERCENT: envInt(50, 1, 100),
  REAPER_INTERVAL_MS: envInt(60000, 100, 3600000),
  /** How long records an earlier version retired in place are kept (a release now deletes its records). */
  RETIRED_RETENTION_MS: envInt(3600000, 0, 30 * 24 * 3600000),
  /**
   * Days the record of PIN entries (outcome, masked caller; never digits) is kept for the console's
   * timelines and PIN security view. A month covers a support question and a brute-force review.
   */
  PIN_ATTEMPT_RETENTION_DAYS: envInt(30, 7, 365),
});

export type PinAuthConfig = z.output<typeof pinAuthConfigSchema>;

export function loadPinAuthConfig(env: NodeJS.ProcessEnv = process.env): PinAuthConfig {
  return loadConfig('pin-auth', pinAuthConfigSchema, env);
}

export { SERVICE_CONFIG as PIN_AUTH_CONFIG } from '@maskline/service-kit';
