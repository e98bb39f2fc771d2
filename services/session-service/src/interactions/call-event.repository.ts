import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { isDuplicateKeyError } from '@maskline/persistence';
import { CallEventDocument } from './call-event.schema';

@Injectable()
export class CallEventRepository {
  constructor(@InjectModel(CallEventDocument.name) private readonly model: Model<CallEventDocument>) {}

  /** Records the event once; a redelivery is a no-op. */
  async record(event: CallEventDocument): Promise<void> {
    try {
      // Lean: the payload was validated on the way in; no document to hydrate for one insert.
      await this.model.insertMany([event], { lean: true });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
  }

  async forSession(accountId: string, sessionId: string): Promise<CallEventDocument[]> {
    return (await this.model.find({ sessionId, accountId }).lean().exec()) as CallEventDocument[];
  }
}
