import { z } from 'zod';
import { commonServiceConfigShape, loadConfig, storeConfigShape } from '@maskline/config';

export const callRouterConfigSchema = z.object({
  ...commonServiceConfigShape,
  ...storeConfigShape,
  /** This service's own database. */
  MONGO_DB: z.string().min(1).default('maskline-call-router'),
  MASKLINE_VERSION: z.string().default('dev'),
});

export type CallRouterConfig = z.output<typeof callRouterConfigSchema>;

export function loadCallRouterConfig(env: NodeJS.ProcessEnv = process.env): CallRouterConfig {
  return loadConfig('call-router', callRouterConfigSchema, env);
}

export { SERVICE_CONFIG as CALL_ROUTER_CONFIG } from '@maskline/service-kit';
