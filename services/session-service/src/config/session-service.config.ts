import { z } from 'zod';
import { commonServiceConfigShape, loadConfig, storeConfigShape } from '@maskline/config';

export const sessionServiceConfigSchema = z.object({
  ...commonServiceConfigShape,
  ...storeConfigShape,
  /** This service's own database. */
  MONGO_DB: z.string().min(1).default('maskline-sessions'),
  MASKLINE_VERSION: z.string().default('dev'),
});

export type SessionServiceConfig = z.output<typeof sessionServiceConfigSchema>;

export function loadSessionServiceConfig(env: NodeJS.ProcessEnv = process.env): SessionServiceConfig {
  return loadConfig('session-service', sessionServiceConfigSchema, env);
}

export { SERVICE_CONFIG as SESSION_SERVICE_CONFIG } from '@maskline/service-kit';
