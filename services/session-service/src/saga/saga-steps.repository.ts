import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { isDuplicateKeyError } from '@maskline/persistence';
import { SagaStepDocument } from './saga-step.schema';

@Injectable()
export class SagaStepsRepository {
  constructor(@InjectModel(SagaStepDocument.name) private readonly model: Model<SagaStepDocument>) {}

  /** Writes the step down; writing the same step again (a retried attempt) is a no-op. */
  async record(step: Omit<SagaStepDocument, '_id' | 'createdAt'>): Promise<void> {
    try {
      await this.model.create({
        ...step,
        _id: `${step.sessionId}:${step.kind}:${step.ref}`,
        createdAt: new Date(),
      });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
  }

  async olderThan(at: Date, limit: number): Promise<SagaStepDocument[]> {
    return (await this.model
      .find({ createdAt: { $lt: at } })
      .limit(limit)
      .lean()
      .exec()) as SagaStepDocument[];
  }

  async forgetSession(sessionId: string): Promise<void> {
    await this.model.deleteMany({ sessionId }).exec();
  }

  async forget(id: string): Promise<void> {
    await this.model.deleteOne({ _id: id }).exec();
  }
}
