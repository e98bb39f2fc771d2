import { Module } from '@nestjs/common';
import { InboundWebhookLimiter } from '../auth/inbound-webhook-limiter';
import { FollowUpUrls } from './follow-up-urls';
import { NumberRoutingCache } from '@maskline/messaging';
import { ReplayGuard } from './replay-guard';
import { VoiceHttpController } from './voice.http.controller';
import { WebhookAuthenticator } from './webhook-authenticator';

@Module({
  controllers: [VoiceHttpController],
  providers: [NumberRoutingCache, ReplayGuard, WebhookAuthenticator, FollowUpUrls, InboundWebhookLimiter],
  exports: [NumberRoutingCache, InboundWebhookLimiter, ReplayGuard],
})
export class VoiceModule {}
