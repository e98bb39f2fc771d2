import { z } from 'zod';
import { keyringSchema, keySchema } from '@maskline/crypto';
import { DEFAULT_INBOUND_PER_SECOND } from '@maskline/contracts';
import {
  callbackUrlConfigShape,
  callContextConfigShape,
  commonServiceConfigShape,
  recordingUrlConfigShape,
  envBoolean,
  envInt,
  envPort,
  envUrl,
  loadConfig,
  secret,
  storeConfigShape,
} from '@maskline/config';

export const gatewayConfigSchema = z.object({
  ...commonServiceConfigShape,
  ...storeConfigShape,
  ...callContextConfigShape,
  /** Opens the URLs of call recordings for the sessions' interactions. */
  ...recordingUrlConfigShape,
  /** This service's own database (accounts live here). */
  MONGO_DB: z.string().min(1).default('maskline-gateway'),
  MASKLINE_VERSION: z.string().default('dev'),
  /** Port of the public HTTP API and telephony webhooks. */
  HTTP_PORT: envPort(8080),
  HTTP_HOST: z.string().default('0.0.0.0'),
  /**
   * On SIGTERM, how long the gateway keeps answering after its readiness turns false, so that
   * balancers stop sending before it stops accepting (then it answers what is in flight, up to
   * SHUTDOWN_GRACE_MS, and only then closes NATS).
   */
  HTTP_DRAIN_DELAY_MS: envInt(2000, 0, 60000),
  /** The URL providers and customers reach the gateway at; webhook URLs are built from it. */
  PUBLIC_BASE_URL: envUrl(['http', 'https'], 'http://127.0.0.1:8080'),
  /** Guards `/admin/*` (operator API). At least 32 characters. */
  OPERATOR_KEY: secret(z.string().min(32, 'must be at least 32 characters')),
  /**
   * Largest request body accepted, in bytes. At most 256 KiB: what the gateway sends on carries the
   * body's fields, escaped as JSON (up to twice its size), and NATS carries no more than its
   * max_payload (1 MiB by default) in one message; a larger one would fail as INTERNAL.NATS_REFUSED.
   */
  MAX_BODY_BYTES: envInt(65536, 1024, 256 * 1024),
  /**
   * Subaccounts one main account may hold. Kept for good (nothing removes one), each with up to
   * MAX_KEYS_PER_ACCOUNT API keys, Proxy Services and console sign-ins of its own: without a bound one
   * tenant made them at its API rate, 8.6 million records a day. At most 10,000, what a list of them
   * returns.
   */
  SUBACCOUNTS_MAX: envInt(1000, 1, 10_000),
  /** AES-256-GCM keys for stored Auth Tokens: `id:base64(32 bytes)[,id:...]`, first one active. */
  ACCOUNT_TOKEN_KEYS: secret(keyringSchema),
  /**
   * HMAC key (base64 of 32 bytes) for Auth Token digests and session creates' request digests. Changing
   * it invalidates every token (and answers a create's retry under its Idempotency-Key 422).
   */
  ACCOUNT_TOKEN_PEPPER: secret(keySchema),
  /** How long a replica caches an account record for authentication. */
  AUTH_CACHE_TTL_MS: envInt(10000, 0, 600000),
  /** Requests per second per account, across every replica (token bucket in NATS KV), and the burst it allows. */
  RATE_LIMIT_PER_SECOND: envInt(100, 1, 100000),
  RATE_LIMIT_BURST: envInt(200, 1, 1000000),
  /**
   * The most of its main account's rate and burst one subaccount may take, in percent: a reseller's
   * customer on a subaccount cannot use the whole limit its main account and siblings share.
   */
  SUBACCOUNT_RATE_LIMIT_PERCENT: envInt(50, 1, 100),
  /**
   * Calls and texts a provider starts towards one account's numbers (a new call's answer, an inbound
   * message, a status report with no call context of ours), per second across every replica, and the
   * burst allowed; the webhooks of calls taken get FOLLOW_UPS_PER_START (16) times as much. A tenant
   * holds its own provider credentials, so it can sign as many webhooks to its own numbers as it
   * likes: this keeps it from taking the call routers and the message relay from the other tenants.
   * Set well above real traffic; over it a caller hears "temporarily unavailable", a report is
   * dropped, and a text is refused with 429.
   */
  INBOUND_RATE_LIMIT_PER_SECOND: envInt(DEFAULT_INBOUND_PER_SECOND, 1, 100000),
  INBOUND_RATE_LIMIT_BURST: envInt(1000, 1, 1000000),
  ...callbackUrlConfigShape,
  /**
   * Check X-Plivo-Signature-V3 / X-Twilio-Signature on telephony webhooks. Turning it off is for
   * local development only: production config refuses it.
   */
  WEBHOOK_SIGNATURE_CHECK: envBoolean(true),
  /** A routing decision's budget (providers wait 5–15 s; this stays far below). */
  VOICE_DECISION_TIMEOUT_MS: envInt(1500, 100, 5000),
  /** The operator console signs a browser out after this long without a request. */
  CONSOLE_IDLE_TIMEOUT_SECONDS: envInt(900, 60, 86400),
  /** ...and after this long in any case. */
  CONSOLE_SESSION_MAX_HOURS: envInt(12, 1, 168),
  /** Where the built console is (`/console`); by default `console/` next to the gateway's build. */
  CONSOLE_ASSETS_DIR: z.string().min(1).optional(),
  /** How long `GET /health` waits for each service. */
  HEALTH_TIMEOUT_MS: envInt(1000, 50, 10000),
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

/** The schema with its cross-variable rules (what the service loads). */
export const gatewayConfigRules = gatewayConfigSchema.refine(
  (c) => c.NODE_ENV !== 'production' || c.WEBHOOK_SIGNATURE_CHECK,
  {
    message: 'webhook signature checks cannot be turned off in production',
    path: ['WEBHOOK_SIGNATURE_CHECK'],
  },
);

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig('gateway', gatewayConfigRules, env);
}

export { SERVICE_CONFIG as GATEWAY_CONFIG } from '@maskline/service-kit';
