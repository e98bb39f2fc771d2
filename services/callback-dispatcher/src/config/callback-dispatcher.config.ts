import { z } from 'zod';
import { commonServiceConfigShape, loadConfig, storeConfigShape } from '@maskline/config';

export const callbackDispatcherConfigSchema = z.object({
  ...commonServiceConfigShape,
  ...storeConfigShape,
  /** This service's own database. */
  MONGO_DB: z.string().min(1).default('maskline-callbacks'),
  MASKLINE_VERSION: z.string().default('dev'),
});

export type CallbackDispatcherConfig = z.output<typeof callbackDispatcherConfigSchema>;

export function loadCallbackDispatcherConfig(env: NodeJS.ProcessEnv = process.env): CallbackDispatcherConfig {
  return loadConfig('callback-dispatcher', callbackDispatcherConfigSchema, env);
}

export { SERVICE_CONFIG as CALLBACK_DISPATCHER_CONFIG } from '@maskline/service-kit';
