import {
  DEFAULT_NATS_MEMORY_BYTES,
  DEFAULT_NATS_STORAGE_BYTES,
  HISTORY_READ_LIMIT_VARIABLES,
} from '@maskline/contracts';
import { z } from 'zod';
import { envInt, envPort, envUrl, logLevelSchema } from './env-types';

/**
 * Variables every service reads. Each service extends this schema with its own
 * (see `services/<name>/src/config/<name>.config.ts`).
 */
export const commonServiceConfigShape = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: logLevelSchema,
  /** Comma-separated NATS server URLs. */
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:14222'),
  /** Replicas of the JetStream streams and KV buckets this service creates (3 on a NATS cluster). */
  NATS_STREAM_REPLICAS: envInt(1, 1, 5),
  /**
   * How much JetStream file storage each NATS node has for Maskline (its volume): the event stream
   * and the buckets that grow with traffic each hold at most their share of it
   * (`NATS_STORAGE_SHARES`, 80 % in all) and, full, forget their oldest first (or refuse, where
   * forgetting would undo something). NATS must be able to reserve those shares, or the services do
   * not start. Every service must be given the same value
   * (a bound set by one replica is set again by the next that starts).
   */
  NATS_STORAGE_BYTES: envInt(DEFAULT_NATS_STORAGE_BYTES, 64 * 1024 ** 2, 1024 ** 5),
  /**
   * How much memory each NATS node has (its container's limit): NATS keeps every KV key in memory, so
   * the buckets that grow with traffic each hold at most their share of it in keys
   * (`NATS_MEMORY_SHARES`, 75 % in all, at `NATS_KEY_MEMORY_BYTES` a key), as for their bytes.
   * The same for every service.
   */
  NATS_MEMORY_BYTES: envInt(DEFAULT_NATS_MEMORY_BYTES, 64 * 1024 ** 2, 1024 ** 4),
  /** Port of the ops HTTP server (`/metrics`, `/livez`, `/readyz`); 0 picks a free port. */
  OPS_PORT: envPort(0),
  /** Default timeout of a NATS request to another service. */
  RPC_TIMEOUT_MS: envInt(2000, 50, 60000),
  /** Circuit breakers around calls to other services. */
  BREAKER_ERROR_THRESHOLD_PERCENT: envInt(50, 1, 100),
  BREAKER_RESET_MS: envInt(5000, 100, 600000),
  BREAKER_VOLUME_THRESHOLD: envInt(10, 1, 10000),
  /** How long shutdown waits for in-flight handlers before closing NATS. */
  SHUTDOWN_GRACE_MS: envInt(10000, 0, 120000),
  /**
   * The longest any one store command may take (the driver's client-side operation timeout): a command
   * the store does not answer in time fails as "store unavailable" (retryable) instead of holding up
   * every later command behind it. Index builds at boot have none. 30 s is longer than any command
   * this system sends takes (a FerretDB scan of 100,000 documents, 6.6 s; a MongoDB election), so it
   * fires only for a store that has stopped answering. A write past its deadline may still be carried
   * out: the saga fences its session id before giving anything back, and the PIN and hold reapers
   * retire records a late write left live (the chaos run uses 3 s to make that routine). 0 turns it off.
   */
  STORE_COMMAND_TIMEOUT_MS: envInt(30000, 0, 600000),
  /**
   * Requests that read an account's history (lists, counts, replays; each a scan of a collection
   * that grows with history on FerretDB) answered at once for one main account, and in all, across
   * every replica of every service. Past them a request is refused at once: 429 for the account's
   * own limit, 503 (retryable) for the system's. One tenant's reads can then never take the store
   * from everyone's calls.
   */
  HISTORY_READS_PER_ACCOUNT: envInt(4, 1, 1000),
  HISTORY_READS_IN_FLIGHT: envInt(16, 1, 10000),
  /**
   * The same for requests that read one session's records (a get or an update of a session, its
   * interactions, PIN entries and callback attempts): counted apart, as each reads that session's own
   * days (one spanning more than LOOKUP_DAYS_MAX takes a scan's slot as well). A console page asks for
   * up to three at once.
   */
  HISTORY_LOOKUPS_PER_ACCOUNT: envInt(16, 1, 1000),
  HISTORY_LOOKUPS_IN_FLIGHT: envInt(64, 1, 10000),
  /** A diagnostic for benchmarks: a directory where the service writes its store commands' totals at exit. */
  STORE_COMMAND_STATS_DIR: z.string().min(1).optional(),
};

/** A rule between variables of the common shape: checked for every service whose schema has all of `keys`. */
export interface CommonConfigRule {
  keys: readonly string[];
  /** The variable the problem is reported against. */
  path: string;
  message: string;
  holds(config: Record<string, unknown>): boolean;
}

export const commonServiceConfigRules: readonly CommonConfigRule[] = [
  ...Object.values(HISTORY_READ_LIMIT_VARIABLES).map(({ perAccount, inFlight }) => ({
    keys: [perAccount, inFlight],
    path: perAccount,
    message: `must be at most ${inFlight} (an account cannot hold more than the system has)`,
    holds: (c: Record<string, unknown>) => Number(c[perAccount]) <= Number(c[inFlight]),
  })),
];

export const storeConfigShape = {
  /** MongoDB connection string (MongoDB ≥ 6 replica set in production, FerretDB locally). */
  MONGO_URL: envUrl(['mongodb', 'mongodb+srv'], 'mongodb://127.0.0.1:27018/'),
};

export type CommonServiceConfig = z.output<z.ZodObject<typeof commonServiceConfigShape>>;
