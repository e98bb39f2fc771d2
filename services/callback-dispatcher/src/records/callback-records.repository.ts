import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { isDuplicateKeyError } from '@maskline/persistence';
import { CallbackAttemptDocument, DeadLetterDocument } from './callback-records.schema';

@Injectable()
export class CallbackRecords {
  constructor(
    @InjectModel(CallbackAttemptDocument.name) private readonly attempts: Model<CallbackAttemptDocument>,
    @InjectModel(DeadLetterDocument.name) private readonly deadLetters: Model<DeadLetterDocument>,
  ) {}

  async recordAttempt(attempt: Omit<CallbackAttemptDocument, '_id'>): Promise<void> {
    await this.attempts.create({ ...attempt, _id: randomUUID() });
  }

  /**
   * Records the dead letter. A replay that fails again updates it (new reason, replayable again);
   * a redelivery after a crash writes the same thing.
   */
  async recordDeadLetter(letter: DeadLetterDocument): Promise<void> {
    try {
      await this.deadLetters.create(letter);
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      const { _id, reason, attempts, at, url } = letter;
      await this.deadLetters
        .updateOne({ _id }, { $set: { reason, attempts, at, url, replayedAt: null } })
        .exec();
    }
  }

  async deadLetter(accountId: string, eventId: string): Promise<DeadLetterDocument | null> {
    const d = (await this.deadLetters.findById(eventId).lean().exec()) as DeadLetterDocument | null;
    return d && d.accountId === accountId ? d : null;
  }

  async attemptsOfSession(accountId: string, sessionId: string) {
    return (await this.attempts
      .find({ accountId, sessionId })
      .sort({ at: 1 })
      .lean()
      .exec()) as CallbackAttemptDocument[];
  }

  async deadLettersOfSession(accountId: string, sessionId: string) {
    return (await this.deadLetters
      .find({ accountId, sessionId })
      .sort({ at: -1 })
      .lean()
      .exec()) as DeadLetterDocument[];
  }

  async listDeadLetters(accountId: string, limit: number, offset: number) {
    const [objects, total] = await Promise.all([
      this.deadLetters.find({ accountId }).sort({ at: -1 }).skip(offset).limit(limit).lean().exec(),
      this.deadLetters.countDocuments({ accountId }).exec(),
    ]);
    return { objects: objects as DeadLetterDocument[], total };
  }

  async notReplayed(accountId: string, limit: number) {
    return (await this.deadLetters
      .find({ accountId, replayedAt: null })
      .limit(limit)
      .lean()
      .exec()) as DeadLetterDocument[];
  }

  async markReplayed(eventId: string, at: Date): Promise<void> {
    await this.deadLetters.updateOne({ _id: eventId }, { $set: { replayedAt: at } }).exec();
  }
}
