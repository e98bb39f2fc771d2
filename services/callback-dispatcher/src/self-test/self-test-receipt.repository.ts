import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { isDuplicateKeyError } from '@maskline/persistence';
import { SelfTestReceipt } from './self-test-receipt.schema';

@Injectable()
export class SelfTestReceiptRepository {
  constructor(@InjectModel(SelfTestReceipt.name) private readonly model: Model<SelfTestReceipt>) {}

  /** Records the receipt once; a redelivery of the same event is a no-op. */
  async record(probeId: string, streamSequence: number): Promise<void> {
    try {
      await this.model.create({ _id: probeId, receivedAt: new Date(), streamSequence });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
  }

  async find(probeId: string): Promise<SelfTestReceipt | null> {
    return (await this.model.findById(probeId).lean().exec()) as SelfTestReceipt | null;
  }
}
