import { z } from 'zod';
import {
  commonServiceConfigShape,
  envInt,
  loadConfig,
  providerApiConfigShape,
  secret,
  storeConfigShape,
} from '@maskline/config';
import { keyringSchema } from '@maskline/crypto';

export const numberPoolConfigSchema = z.object({
  ...commonServiceConfigShape,
  ...storeConfigShape,
  /** This service's own database. */
  MONGO_DB: z.string().min(1).default('maskline-number-pool'),
  MASKLINE_VERSION: z.string().default('dev'),
  /** Provider REST APIs: asked whether an account holds a number being added. */
  ...providerApiConfigShape,
  /** AES-256-GCM keys for provider webhook credentials: `id:base64(32 bytes)[,...]`, first active. */
  PROVIDER_CREDENTIAL_KEYS: secret(keyringSchema),
  /** Tries before an allocation that keeps losing races gives up with POOL.CONTENDED. */
  ALLOCATOR_MAX_ATTEMPTS: envInt(24, 1, 100),
  /** How long a replica caches an owner's list of active numbers. */
  POOL_CACHE_TTL_MS: envInt(5000, 0, 600000),
  REAPER_INTERVAL_MS: envInt(5000, 100, 600000),
  /** How often each replica samples pool use for the per-minute history (one sample per minute is kept). */
  UTILIZATION_ROLLUP_INTERVAL_MS: envInt(60000, 1000, 3600000),
  /**
   * How long the store keeps the record a release leaves when it came before its allocation (a
   * tombstone; a released allocation's own store copy goes at release). What stops a late
   * allocation is the released record in KV (30 days); this copy answers only when KV has lost it.
   */
  RETIRED_RETENTION_MS: envInt(600000, 0, 30 * 24 * 3600000),
  /**
   * The most numbers one account (with its subaccounts) may hold: a number added without provider
   * credentials needs no proof that the account holds it, so this bounds what one tenant can take
   * out of every other tenant's reach, and what the pool's per-minute sample reads.
   */
  NUMBERS_PER_ACCOUNT_MAX: envInt(10000, 1, 1000000),
  /**
   * The share of NUMBERS_PER_ACCOUNT_MAX one subaccount's adds may fill (its numbers, and those it
   * deleted still in quarantine): one subaccount, a reseller's customer, does not take the whole of
   * its main account's room, which a delete frees only after NUMBER_QUARANTINE_MS. Numbers its main
   * account adds for it or moves to it are the main account's choice and not bounded by it.
   */
  NUMBERS_SUBACCOUNT_PERCENT: envInt(50, 1, 100),
  /**
   * How often the providers are asked about numbers with credentials they were never asked about as
   * they are now, or not for PROVIDER_HOLDING_REASK_AFTER_MS (on one replica per interval).
   */
  PROVIDER_HOLDING_SWEEP_INTERVAL_MS: envInt(600000, 1000, 86400000),
  /** How long a provider's word that an account holds a number stands before it is asked again. */
  PROVIDER_HOLDING_REASK_AFTER_MS: envInt(86400000, 60000, 30 * 86400000),
  /**
   * How long a number its account deleted stays out of other accounts' reach: people who called or
   * texted it in that account's sessions may still do so, and should not reach another business
   * at once (the carriers' own recycling waits too).
   */
  NUMBER_QUARANTINE_MS: envInt(7 * 86400000, 0, 365 * 86400000),
});

export type NumberPoolConfig = z.output<typeof numberPoolConfigSchema>;

export function loadNumberPoolConfig(env: NodeJS.ProcessEnv = process.env): NumberPoolConfig {
  return loadConfig('number-pool', numberPoolConfigSchema, env);
}

export { SERVICE_CONFIG as NUMBER_POOL_CONFIG } from '@maskline/service-kit';
