import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { ServiceKitModule } from '@maskline/service-kit';
import type { CallbackDispatcherConfig } from './config/callback-dispatcher.config';
import { CallbackDispatcherRpcErrorFilter } from './errors/callback-dispatcher.rpc-error-filter';
import { DeliveryModule } from './delivery/delivery.module';
import { SelfTestModule } from './self-test/self-test.module';

@Module({})
export class CallbackDispatcherModule {
  static forRoot(config: CallbackDispatcherConfig, options: { logger?: Logger } = {}): DynamicModule {
    return {
      module: CallbackDispatcherModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'callback-dispatcher',
          config,
          store: { uri: config.MONGO_URL, dbName: config.MONGO_DB },
          errorFilter: CallbackDispatcherRpcErrorFilter,
          logger: options.logger,
        }),
        SelfTestModule,
        DeliveryModule,
      ],
    };
  }
}
