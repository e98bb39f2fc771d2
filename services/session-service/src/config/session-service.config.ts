import { z } from 'zod';
import { STREAMS } from '@maskline/contracts';
import {
  commonServiceConfigShape,
  envBoolean,
  envInt,
  loadConfig,
  privacyConfigShape,
  storeConfigShape,
} from '@maskline/config';

export const sessionServiceConfigSchema = z
  .object({
    ...commonServiceConfigShape,
    ...storeConfigShape,
    /** This service's own database. */
    MONGO_DB: z.string().min(1).default('maskline-sessions'),
    MASKLINE_VERSION: z.string().default('dev'),
    /** Virtual numbers tried when the PIN service refuses one (PIN.CAPACITY / PIN.CONFLICT). */
    SESSION_ALLOCATION_ATTEMPTS: envInt(3, 1, 10),
    /**
     * How often each replica reads from the store the sessions due within twice this time; those it
     * creates or updates itself it times exactly. A session whose replica is gone ends at most this late.
     */
    EXPIRY_POLL_MS: envInt(10000, 50, 600000),
    /**
     * An expiry claimed this long ago but not finished (a crashed replica) is taken over. At most
     * half the event stream's duplicate window (10 min): a claimer that died after announcing the
     * end is taken over while the stream still drops the repeated announcement.
     */
    EXPIRY_CLAIM_STALE_MS: envInt(30000, 1000, STREAMS.MASKLINE_EVENTS.duplicateWindowMs / 2),
    /**
     * Expirations one replica runs at once. Their store writes go in one statement per kind, so more
     * at once costs the store less per expiry (a backlog drains faster than expiries come due); each
     * also asks number-pool to release, on the same breaker as session creation's allocations.
     */
    EXPIRY_CONCURRENCY: envInt(32, 1, 1000),
    /** A creation's reservations left this long without a session are given back. */
    ORPHAN_AGE_MS: envInt(30000, 100, 3600000),
    REAPER_INTERVAL_MS: envInt(5000, 100, 3600000),
    /**
     * Twilio Proxy Sessions an owner may hold open with no participant yet: they need no number, so
     * nothing else bounds them, and they live in the collection every hot path reads.
     */
    PROXY_EMPTY_SESSIONS_MAX: envInt(1000, 1, 1_000_000),
    /**
     * Twilio Proxy Services a main account may hold, its subaccounts' included: kept until deleted,
     * up to 6.5 KB each with their URLs, and subaccounts are the account's to make. Without a bound one
     * tenant creating them at its API rate wrote about 50 GB a day into the store every tenant shares.
     */
    PROXY_SERVICES_MAX: envInt(1000, 1, 1_000_000),
    /**
     * The most steps (a call's answer, hang-up...; a message's outcome) a read of a session's history
     * returns: its newest. A session that never ends (a Proxy Session without a TTL) may record steps
     * for ever, a tenant texting itself at its whole rate limit millions a day; read whole, a few reads
     * of it at once held enough to exhaust the process every tenant shares. 10,000: about 2,500 calls
     * or 10,000 texts, more than a trip, a delivery or a consultation makes.
     */
    SESSION_STEPS_READ_MAX: envInt(10_000, 10, 1_000_000),
    /**
     * Live sessions an account (its subaccounts' included) may hold at once, in either API: every
     * call router keeps each live session in memory, and the store every hot path reads holds them.
     */
    LIVE_SESSIONS_MAX: envInt(100_000, 1, 10_000_000),
    /**
     * The most of its account's LIVE_SESSIONS_MAX one subaccount may hold, in percent: a reseller's
     * customer on a subaccount cannot take the whole bound its main account and siblings share.
     */
    LIVE_SESSIONS_SUBACCOUNT_PERCENT: envInt(50, 1, 100),
    /**
     * The most of the room for creation verdicts (two hours of session creations, sized by
     * NATS_MEMORY_BYTES and NATS_STORAGE_BYTES: `maskline-creation-reservations`) one account, its
     * subaccounts' included, may take, in percent: a steady rate and a minute's burst of it. Full,
     * the room refuses every tenant's creations; this keeps one tenant's credentials from filling it.
     */
    CREATIONS_ACCOUNT_PERCENT: envInt(25, 1, 100),
    /** The most of its account's CREATIONS_ACCOUNT_PERCENT one subaccount may take, in percent. */
    CREATIONS_SUBACCOUNT_PERCENT: envInt(50, 1, 100),
    /** How often one replica recounts every account's live sessions from the store (`LiveSessionRecount`). */
    LIVE_SESSIONS_RECOUNT_MS: envInt(600_000, 1000, 86_400_000),
    ...privacyConfigShape,
    /**
     * Days an ended session (and its call steps) is kept, then deleted: long enough for a monthly
     * invoice question, short enough that old conversations are not a liability.
     */
    SESSION_RETENTION_DAYS: envInt(30, 1, 3650),
    /**
     * Ended sessions are recorded in the collection of the UTC day they ended
     * (`ended_sessions_<yyyymmdd>`); false: in `ended_sessions`, as versions before 2026-11-30 did
     * (both are read either way). Only for the first step of an upgrade from such a version: those
     * replicas read `ended_sessions` alone (deploy/README.md).
     */
    ENDED_SESSIONS_BY_DAY: envBoolean(true),
    /** How long an Idempotency-Key is remembered. */
    IDEMPOTENCY_RETENTION_MS: envInt(86400000, 60000, 30 * 86400000),
    /**
     * Test-only fault injection in the creation saga (never in production): `crash-after-allocation`,
     * `crash-after-pins`, `fail-before-store`, `crash-after-store`, `crash-after-verdict`, `crash-after-announce`.
     */
    SAGA_FAULT: z
      .enum([
        'none',
        'crash-after-allocation',
        'crash-after-pins',
        'fail-before-store',
        'crash-after-store',
        'crash-after-verdict',
        'crash-after-announce',
      ])
      .default('none'),
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.SAGA_FAULT === 'none', {
    message: 'fault injection is refused in production',
    path: ['SAGA_FAULT'],
  });

export type SessionServiceConfig = z.output<typeof sessionServiceConfigSchema>;

export function loadSessionServiceConfig(env: NodeJS.ProcessEnv = process.env): SessionServiceConfig {
  return loadConfig('session-service', sessionServiceConfigSchema, env);
}

export { SERVICE_CONFIG as SESSION_SERVICE_CONFIG } from '@maskline/service-kit';
