import { z } from 'zod';
import { commonServiceConfigShape, type CommonServiceConfig } from '@maskline/config';

/** NATS_STORAGE_BYTES in tests: the shares NATS is asked to reserve fit any test machine's free disk. */
export const TEST_NATS_STORAGE_BYTES = 256 * 1024 ** 2;

/** Common config for a service under test, pointed at this file's NATS. */
export function testServiceConfig(
  natsUrl: string,
  overrides: Partial<CommonServiceConfig> = {},
): CommonServiceConfig {
  return {
    // Every default of the schema, then what a test needs.
    ...z.object(commonServiceConfigShape).parse({}),
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    NATS_URL: natsUrl,
    NATS_STREAM_REPLICAS: 1,
    OPS_PORT: 0,
    RPC_TIMEOUT_MS: 2000,
    BREAKER_ERROR_THRESHOLD_PERCENT: 50,
    BREAKER_RESET_MS: 1000,
    BREAKER_VOLUME_THRESHOLD: 5,
    SHUTDOWN_GRACE_MS: 5000,
    STORE_COMMAND_TIMEOUT_MS: 0,
    NATS_STORAGE_BYTES: TEST_NATS_STORAGE_BYTES,
    ...overrides,
  };
}
