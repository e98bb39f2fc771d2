import 'reflect-metadata';
import { bootstrapService } from '@maskline/service-kit';
import { loadCallbackDispatcherConfig } from './config/callback-dispatcher.config';
import { CallbackDispatcherModule } from './callback-dispatcher.module';

void bootstrapService({
  service: 'callback-dispatcher',
  module: () => CallbackDispatcherModule.forRoot(loadCallbackDispatcherConfig()),
});
