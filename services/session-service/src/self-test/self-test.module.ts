import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { SelfTestProbe, SelfTestProbeSchema } from './self-test-probe.schema';
import { SelfTestProbeRepository } from './self-test-probe.repository';
import { SelfTestNatsController } from './self-test.nats.controller';

@Module({
  imports: [MongooseModule.forFeature([{ name: SelfTestProbe.name, schema: SelfTestProbeSchema }])],
  controllers: [SelfTestNatsController],
  providers: [SelfTestProbeRepository],
})
export class SelfTestModule {}
