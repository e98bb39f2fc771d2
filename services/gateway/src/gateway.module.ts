import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Logger } from 'pino';
import { StoreRpcErrorFilter } from '@maskline/persistence';
import { ServiceKitModule } from '@maskline/service-kit';
import { SelfTestHttpController } from './admin/self-test.http.controller';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway.config';
import { PlivoErrorFilter } from './errors/plivo-error.filter';
import { HealthHttpController } from './health/health.http.controller';
import { SystemHealthService } from './health/system-health';

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, options: { logger?: Logger } = {}): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'gateway',
          config,
          store: { uri: config.MONGO_URL, dbName: config.MONGO_DB },
          errorFilter: StoreRpcErrorFilter,
          logger: options.logger,
        }),
      ],
      controllers: [HealthHttpController, SelfTestHttpController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: PlivoErrorFilter },
        SystemHealthService,
      ],
      exports: [GATEWAY_CONFIG],
    };
  }
}
