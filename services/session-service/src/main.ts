import 'reflect-metadata';
import { bootstrapService } from '@maskline/service-kit';
import { loadSessionServiceConfig } from './config/session-service.config';
import { SessionServiceModule } from './session-service.module';

void bootstrapService({
  service: 'session-service',
  module: () => SessionServiceModule.forRoot(loadSessionServiceConfig()),
});
