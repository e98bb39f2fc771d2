import { Module } from '@nestjs/common';
import { VoiceModule } from '../voice/voice.module';
import { MessagingHttpController } from './messaging.http.controller';

/** Message webhooks (SMS, MMS): taken at the edge, relayed by the call router from the stream. */
@Module({ imports: [VoiceModule], controllers: [MessagingHttpController] })
export class MessagingModule {}
