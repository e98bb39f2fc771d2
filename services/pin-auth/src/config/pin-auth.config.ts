import { z } from 'zod';
import { commonServiceConfigShape, loadConfig, storeConfigShape } from '@maskline/config';

export const pinAuthConfigSchema = z.object({
  ...commonServiceConfigShape,
  ...storeConfigShape,
  /** This service's own database. */
  MONGO_DB: z.string().min(1).default('maskline-pin-auth'),
  MASKLINE_VERSION: z.string().default('dev'),
});

export type PinAuthConfig = z.output<typeof pinAuthConfigSchema>;

export function loadPinAuthConfig(env: NodeJS.ProcessEnv = process.env): PinAuthConfig {
  return loadConfig('pin-auth', pinAuthConfigSchema, env);
}

export { SERVICE_CONFIG as PIN_AUTH_CONFIG } from '@maskline/service-kit';
