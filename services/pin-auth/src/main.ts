import 'reflect-metadata';
import { bootstrapService } from '@maskline/service-kit';
import { loadPinAuthConfig } from './config/pin-auth.config';
import { PinAuthModule } from './pin-auth.module';

void bootstrapService({
  service: 'pin-auth',
  module: () => PinAuthModule.forRoot(loadPinAuthConfig()),
});
