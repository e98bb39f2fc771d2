import 'reflect-metadata';
import { bootstrapService } from '@maskline/service-kit';
import { loadPinAuthConfig, pinAuthConfigSchema } from './config/pin-auth.config';
import { PinAuthModule } from './pin-auth.module';

void bootstrapService({
  service: 'pin-auth',
  configSchema: pinAuthConfigSchema,
  module: () => PinAuthModule.forRoot(loadPinAuthConfig()),
});
