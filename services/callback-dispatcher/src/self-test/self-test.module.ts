import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { SelfTestReceipt, SelfTestReceiptSchema } from './self-test-receipt.schema';
import { SelfTestReceiptRepository } from './self-test-receipt.repository';
import { SelfTestReceiptConsumer } from './self-test-receipt.consumer';
import { SelfTestNatsController } from './self-test.nats.controller';

@Module({
  imports: [MongooseModule.forFeature([{ name: SelfTestReceipt.name, schema: SelfTestReceiptSchema }])],
  controllers: [SelfTestNatsController],
  providers: [SelfTestReceiptRepository, SelfTestReceiptConsumer],
})
export class SelfTestModule {}
