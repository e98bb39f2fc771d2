import 'reflect-metadata';
import { bootstrapService } from '@maskline/service-kit';
import { loadCallRouterConfig, callRouterConfigSchema } from './config/call-router.config';
import { CallRouterModule } from './call-router.module';

void bootstrapService({
  service: 'call-router',
  configSchema: callRouterConfigSchema,
  module: () => CallRouterModule.forRoot(loadCallRouterConfig()),
});
