import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { ServiceKitModule } from '@maskline/service-kit';
import type { PinAuthConfig } from './config/pin-auth.config';
import { PinAuthRpcErrorFilter } from './errors/pin-auth.rpc-error-filter';

export const PIN_AUTH_CONFIG = Symbol('PIN_AUTH_CONFIG');

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
      providers: [{ provide: PIN_AUTH_CONFIG, useValue: config }],
      exports: [PIN_AUTH_CONFIG],
    };
  }
}
