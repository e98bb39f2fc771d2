import 'reflect-metadata';
import { bootstrapService } from '@maskline/service-kit';
import { loadCallRouterConfig } from './config/call-router.config';
import { CallRouterModule } from './call-router.module';

void bootstrapService({
  service: 'call-router',
  module: () => CallRouterModule.forRoot(loadCallRouterConfig()),
});
