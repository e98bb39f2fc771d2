import { z } from 'zod';
import { commonServiceConfigShape, loadConfig, storeConfigShape } from '@maskline/config';

export const numberPoolConfigSchema = z.object({
  ...commonServiceConfigShape,
  ...storeConfigShape,
  /** This service's own database. */
  MONGO_DB: z.string().min(1).default('maskline-number-pool'),
  MASKLINE_VERSION: z.string().default('dev'),
});

export type NumberPoolConfig = z.output<typeof numberPoolConfigSchema>;

export function loadNumberPoolConfig(env: NodeJS.ProcessEnv = process.env): NumberPoolConfig {
  return loadConfig('number-pool', numberPoolConfigSchema, env);
}
