import { z } from 'zod';
import {
  callbackUrlConfigShape,
  callContextConfigShape,
  commonServiceConfigShape,
  recordingUrlConfigShape,
  envInt,
  envUrl,
  loadConfig,
  providerApiConfigShape,
} from '@maskline/config';

export const callRouterConfigSchema = z.object({
  ...commonServiceConfigShape,
  ...callContextConfigShape,
  /** Seals the URLs of call recordings into the calls' progress events. */
  ...recordingUrlConfigShape,
  // The SSRF rules for the Proxy Services' intercept and out-of-session URLs, checked at each call.
  ...callbackUrlConfigShape,
  MASKLINE_VERSION: z.string().default('dev'),
  /** The gateway's public URL: outbound calls (initiate_call_to_first_party) are answered there. */
  PUBLIC_BASE_URL: envUrl(['http', 'https'], 'http://127.0.0.1:8080'),
  /** Provider REST APIs, for the calls Maskline places and the texts it relays. */
  ...providerApiConfigShape,
  OUTBOUND_TIMEOUT_MS: envInt(5000, 100, 60000),
  /**
   * How long a Proxy Service's intercept or out-of-session callback may take to answer before the
   * interaction goes ahead (or, fail-closed, is blocked). A call waits for it inside the gateway's
   * VOICE_DECISION_TIMEOUT_MS (1500 ms): kept well under it.
   */
  INTERCEPT_TIMEOUT_MS: envInt(800, 100, 1000),
  /** Sends of one relayed text message before it is announced failed (5xx, 429 and timeouts are retried). */
  MESSAGE_RELAY_ATTEMPTS: envInt(8, 1, 50),
  /** Sends one replica makes at once through one provider account (a hanging API holds no more). */
  MESSAGE_SENDS_PER_PROVIDER_ACCOUNT: envInt(16, 1, 1000),
  /**
   * At most one answer of its own (fallback_message, a Proxy Service's reply) per number and sender
   * within this many seconds. Never 0: two numbers that answer would answer each other without end.
   */
  MESSAGE_FALLBACK_INTERVAL_SECONDS: envInt(3600, 60, 7 * 86400),
  /** Sessions per page when a router loads its routing index. */
  SNAPSHOT_PAGE_SIZE: envInt(500, 1, 1000),
});

export type CallRouterConfig = z.output<typeof callRouterConfigSchema>;

export function loadCallRouterConfig(env: NodeJS.ProcessEnv = process.env): CallRouterConfig {
  return loadConfig('call-router', callRouterConfigSchema, env);
}

export { SERVICE_CONFIG as CALL_ROUTER_CONFIG } from '@maskline/service-kit';
