import { Module } from '@nestjs/common';
import { NumberRoutingCache } from './number-routing.cache';
import { VoiceHttpController } from './voice.http.controller';

@Module({
  controllers: [VoiceHttpController],
  providers: [NumberRoutingCache],
})
export class VoiceModule {}
