import 'reflect-metadata';
import { bootstrapService } from '@maskline/service-kit';
import {
  loadCallbackDispatcherConfig,
  callbackDispatcherConfigSchema,
} from './config/callback-dispatcher.config';
import { CallbackDispatcherModule } from './callback-dispatcher.module';

void bootstrapService({
  service: 'callback-dispatcher',
  configSchema: callbackDispatcherConfigSchema,
  module: () => CallbackDispatcherModule.forRoot(loadCallbackDispatcherConfig()),
});
