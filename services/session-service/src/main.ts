import 'reflect-metadata';
import { bootstrapService } from '@maskline/service-kit';
import { loadSessionServiceConfig, sessionServiceConfigSchema } from './config/session-service.config';
import { SessionServiceModule } from './session-service.module';

void bootstrapService({
  service: 'session-service',
  configSchema: sessionServiceConfigSchema,
  module: () => SessionServiceModule.forRoot(loadSessionServiceConfig()),
});
