import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import type { Logger } from 'pino';
import { StoreRpcErrorFilter } from '@maskline/persistence';
import { ServiceKitModule } from '@maskline/service-kit';
import { AccountsModule } from './accounts/accounts.module';
import { ConsoleModule } from './console/console.module';
import { InsightsModule } from './insights/insights.module';
import { TwilioModule } from './twilio/twilio.module';
import { NumbersModule } from './numbers/numbers.module';
import { SessionsModule } from './sessions/sessions.module';
import { VoiceModule } from './voice/voice.module';
import { MessagingModule } from './messaging/messaging.module';
import { ConsumerLagReader } from './admin/consumer-lag';
import { SelfTestHttpController } from './admin/self-test.http.controller';
import { SystemAdminHttpController } from './admin/system.admin.http.controller';
import type { GatewayConfig } from './config/gateway.config';
import { ApiErrorFilter } from './errors/api-error.filter';
import { HealthHttpController } from './health/health.http.controller';
import { SystemHealthService } from './health/system-health';
import { plivoValidationPipe } from './http/validation.pipe';

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
        // The providers' webhooks first: Express tries the routes in the order they were added, and
        // each webhook (most of the gateway's requests) otherwise first met every API route's pattern.
        VoiceModule,
        MessagingModule,
        AccountsModule,
        NumbersModule,
        SessionsModule,
        TwilioModule,
        ConsoleModule,
        InsightsModule,
      ],
      controllers: [HealthHttpController, SelfTestHttpController, SystemAdminHttpController],
      providers: [
        { provide: APP_FILTER, useClass: ApiErrorFilter },
        { provide: APP_PIPE, useFactory: plivoValidationPipe },
        SystemHealthService,
        ConsumerLagReader,
      ],
    };
  }
}
