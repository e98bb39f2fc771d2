import { testKey, testKeyring } from '@maskline/testing';
import { gatewayConfigSchema, type GatewayConfig } from './gateway.config';

/** A gateway's settings for unit tests: fresh keys, NATS nowhere (nothing connects). */
export function testGatewayConfig(): GatewayConfig {
  return gatewayConfigSchema.parse({
    NATS_URL: 'nats://127.0.0.1:1',
    OPERATOR_KEY: 'o'.repeat(40),
    ACCOUNT_TOKEN_KEYS: testKeyring(),
    ACCOUNT_TOKEN_PEPPER: testKey(),
    CALL_CONTEXT_KEYS: testKeyring(),
    RECORDING_URL_KEYS: testKeyring(),
  }) as GatewayConfig;
}
