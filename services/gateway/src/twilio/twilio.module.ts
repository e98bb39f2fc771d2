import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { TwilioAuthGuard } from '../auth/twilio-auth.guard';
import { CallbackUrlChecker } from '../sessions/callback-url-checker';
import { ProxyNotYetHttpController } from './proxy-not-yet.http.controller';
import { ProxyPhoneNumbersHttpController } from './proxy-phone-numbers.http.controller';
import { ProxyServicesHttpController } from './proxy-services.http.controller';
import { ProxySessionsHttpController } from './proxy-sessions.http.controller';
import { ProxyParticipantsHttpController } from './proxy-participants.http.controller';
import { ProxyInteractionsHttpController } from './proxy-interactions.http.controller';

/** Twilio Proxy's v1 API, next to Plivo's: the resources Twilio's SDK calls, on the same engine. */
@Module({
  imports: [AccountsModule],
  controllers: [
    ProxyServicesHttpController,
    ProxyPhoneNumbersHttpController,
    ProxySessionsHttpController,
    ProxyParticipantsHttpController,
    ProxyInteractionsHttpController,
    ProxyNotYetHttpController,
  ],
  providers: [TwilioAuthGuard, CallbackUrlChecker],
})
export class TwilioModule {}
