import 'reflect-metadata';
import { bootstrapService } from '@maskline/service-kit';
import { loadNumberPoolConfig } from './config/number-pool.config';
import { NumberPoolModule } from './number-pool.module';

void bootstrapService({
  service: 'number-pool',
  module: () => NumberPoolModule.forRoot(loadNumberPoolConfig()),
});
