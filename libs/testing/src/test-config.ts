import { z } from 'zod';
import { commonServiceConfigShape, type CommonServiceConfig } from '@maskline/config';

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
    ...overrides,
  };
}
