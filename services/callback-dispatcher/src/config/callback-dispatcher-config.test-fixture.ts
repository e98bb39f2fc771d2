import { testKey, testKeyring, testServiceConfig, testStoreUrl } from '@maskline/testing';
import { callbackDispatcherConfigSchema, type CallbackDispatcherConfig } from './callback-dispatcher.config';

/** A dispatcher's settings for tests against this file's NATS and the test store: fresh keys. */
export function testDispatcherConfig(
  natsUrl: string,
  overrides: Record<string, string> & { MONGO_DB: string },
): CallbackDispatcherConfig {
  return callbackDispatcherConfigSchema.parse({
    ...testServiceConfig(natsUrl),
    MONGO_URL: testStoreUrl(),
    PARTY_REDACTION_KEY: testKey(),
    RECORDING_URL_KEYS: testKeyring(),
    ...overrides,
  });
}
