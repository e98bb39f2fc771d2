import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { ServiceKitModule } from '@maskline/service-kit';
import type { NumberPoolConfig } from './config/number-pool.config';
import { NumberPoolRpcErrorFilter } from './errors/number-pool.rpc-error-filter';

export const NUMBER_POOL_CONFIG = Symbol('NUMBER_POOL_CONFIG');

@Module({})
export class NumberPoolModule {
  static forRoot(config: NumberPoolConfig, options: { logger?: Logger } = {}): DynamicModule {
    return {
      module: NumberPoolModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'number-pool',
          config,
          store: { uri: config.MONGO_URL, dbName: config.MONGO_DB },
          errorFilter: NumberPoolRpcErrorFilter,
          logger: options.logger,
        }),
      ],
      providers: [{ provide: NUMBER_POOL_CONFIG, useValue: config }],
      exports: [NUMBER_POOL_CONFIG],
    };
  }
}
