import { Module, type DynamicModule } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import type { Logger } from 'pino';
import { ServiceKitModule } from '@maskline/service-kit';
import type { PinAuthConfig } from './config/pin-auth.config';
import { PinAttemptLog } from './attempts/pin-attempt-log';
import { PinAttemptRetention } from './attempts/pin-attempt-retention';
import { PinAttemptDocument, PinAttemptSchema } from './attempts/pin-attempt.schema';
import { PinAttemptsNatsController } from './attempts/pin-attempts.nats.controller';
import { BackgroundWork } from './background/background-work';
import { PinAuthRpcErrorFilter } from './errors/pin-auth.rpc-error-filter';
import { PinReaper } from './maintenance/pin-reaper';
import { LivePinRegistryStore } from './registration/live-pin-registry.store';
import { MongoPinRegistryStore } from './registration/mongo-pin-registry.store';
import { PinRegistrationDocument, PinRegistrationSchema } from './registration/pin-registration.schema';
import { pinRegistryProvider } from './registration/pin-registry.provider';
import { RegistrationNatsController } from './registration/registration.nats.controller';
import { PinThrottle } from './throttling/pin-throttle';
import {
  PinFailureDocument,
  PinFailureSchema,
  PinLockoutDocument,
  PinLockoutSchema,
} from './throttling/pin-throttle.schema';
import { OutcomeAnnouncer } from './verification/outcome-announcer';
import { PinVerifier } from './verification/pin-verifier';
import { VerificationNatsController } from './verification/verification.nats.controller';

@Module({})
export class PinAuthModule {
  static forRoot(config: PinAuthConfig, options: { logger?: Logger } = {}): DynamicModule {
    return {
      module: PinAuthModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'pin-auth',
          config,
          store: { uri: config.MONGO_URL, dbName: config.MONGO_DB },
          errorFilter: PinAuthRpcErrorFilter,
          logger: options.logger,
        }),
        MongooseModule.forFeature([
          { name: PinRegistrationDocument.name, schema: PinRegistrationSchema },
          { name: PinFailureDocument.name, schema: PinFailureSchema },
          { name: PinLockoutDocument.name, schema: PinLockoutSchema },
          { name: PinAttemptDocument.name, schema: PinAttemptSchema },
        ]),
      ],
      controllers: [RegistrationNatsController, VerificationNatsController, PinAttemptsNatsController],
      providers: [
        BackgroundWork,
        MongoPinRegistryStore,
        LivePinRegistryStore,
        pinRegistryProvider,
        PinThrottle,
        OutcomeAnnouncer,
        PinVerifier,
        PinReaper,
        PinAttemptLog,
        PinAttemptRetention,
      ],
    };
  }
}
