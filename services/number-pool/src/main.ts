import 'reflect-metadata';
import { bootstrapService } from '@maskline/service-kit';
import { loadNumberPoolConfig, numberPoolConfigSchema } from './config/number-pool.config';
import { NumberPoolModule } from './number-pool.module';

void bootstrapService({
  service: 'number-pool',
  configSchema: numberPoolConfigSchema,
  module: () => NumberPoolModule.forRoot(loadNumberPoolConfig()),
});
