import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { TwilioAuthGuard } from '../auth/twilio-auth.guard';
import { CallbackUrlChecker } from '../sessions/callback-url-checker';
import { ProxyPhoneNumbersHttpController } from './proxy-phone-numbers.http.controller';
import { ProxyServicesHttpController } from './proxy-services.http.controller';
import { ProxySessionsHttpController } from './proxy-sessions.http.controller';
import { ProxyParticipantsHttpController } from './proxy-participants.http.controller';
import { ProxyInteractionsHttpController } from './proxy-interactions.http.controller';
import { ProxyMessageInteractionsHttpController } from './proxy-message-interactions.http.controller';
import { VoiceModule } from '../voice/voice.module';

/** Twilio Proxy's v1 API, next to Plivo's: the resources Twilio's SDK calls, on the same engine. */
@Module({
  imports: [AccountsModule, VoiceModule],
  controllers: [
    ProxyServicesHttpController,
    ProxyPhoneNumbersHttpController,
    ProxySessionsHttpController,
    ProxyParticipantsHttpController,
    ProxyInteractionsHttpController,
    ProxyMessageInteractionsHttpController,
  ],
  providers: [TwilioAuthGuard, CallbackUrlChecker],
})
export class TwilioModule {}
