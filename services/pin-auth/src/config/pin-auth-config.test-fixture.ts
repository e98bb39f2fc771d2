import { testKey, testKeyring, testServiceConfig, testStoreUrl } from '@maskline/testing';
import { pinAuthConfigSchema, type PinAuthConfig } from './pin-auth.config';

/** pin-auth's settings for tests against this file's NATS and the test store: fresh keys. */
export function testPinAuthConfig(
  natsUrl: string,
  overrides: Record<string, string> & { MONGO_DB: string },
): PinAuthConfig {
  return pinAuthConfigSchema.parse({
    ...testServiceConfig(natsUrl),
    MONGO_URL: testStoreUrl(),
    PIN_DIGEST_KEY: testKey(),
    PIN_ENCRYPTION_KEYS: testKeyring(),
    ...overrides,
  });
}
