import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { ServiceKitModule } from '@maskline/service-kit';
import type { CallRouterConfig } from './config/call-router.config';
import { CallRouterRpcErrorFilter } from './errors/call-router.rpc-error-filter';

@Module({})
export class CallRouterModule {
  static forRoot(config: CallRouterConfig, options: { logger?: Logger } = {}): DynamicModule {
    return {
      module: CallRouterModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'call-router',
          config,
          store: { uri: config.MONGO_URL, dbName: config.MONGO_DB },
          errorFilter: CallRouterRpcErrorFilter,
          logger: options.logger,
        }),
      ],
    };
  }
}
