import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { ServiceKitModule } from '@maskline/service-kit';
import type { SessionServiceConfig } from './config/session-service.config';
import { SessionServiceRpcErrorFilter } from './errors/session-service.rpc-error-filter';
import { SelfTestModule } from './self-test/self-test.module';
import { ProxyServicesModule } from './proxy-services/proxy-services.module';
import { SessionsModule } from './sessions/sessions.module';

@Module({})
export class SessionServiceModule {
  static forRoot(config: SessionServiceConfig, options: { logger?: Logger } = {}): DynamicModule {
    return {
      module: SessionServiceModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'session-service',
          config,
          store: { uri: config.MONGO_URL, dbName: config.MONGO_DB },
          errorFilter: SessionServiceRpcErrorFilter,
          logger: options.logger,
        }),
        SelfTestModule,
        SessionsModule,
        ProxyServicesModule,
      ],
    };
  }
}
