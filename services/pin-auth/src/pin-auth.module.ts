import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { ServiceKitModule } from '@maskline/service-kit';
import type { PinAuthConfig } from './config/pin-auth.config';
import { PinAuthRpcErrorFilter } from './errors/pin-auth.rpc-error-filter';

@Module({})
export class PinAuthModule {
  static forRoot(config: PinAuthConfig, options: { logger?: Logger } = {}): DynamicModule {
    return {
      module: PinAuthModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'pin-auth',
          config,
          store: { uri: config.MONGO_URL, dbName: config.MONGO_DB },
          errorFilter: PinAuthRpcErrorFilter,
          logger: options.logger,
        }),
      ],
    };
  }
}
