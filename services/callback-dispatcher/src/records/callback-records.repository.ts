import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import type { AccountScope } from '@maskline/contracts';
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

  /** A dead letter the scope may see: the account's, and for a subaccount only its own. */
  async deadLetter(scope: AccountScope, eventId: string): Promise<DeadLetterDocument | null> {
    const d = (await this.deadLetters.findById(eventId).lean().exec()) as DeadLetterDocument | null;
    return d && d.accountId === scope.accountId && visibleTo(scope, d) ? d : null;
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

  async listDeadLetters(scope: AccountScope, limit: number, offset: number) {
    const filter = scopeFilter(scope);
    const [objects, total] = await Promise.all([
      this.deadLetters.find(filter).sort({ at: -1 }).skip(offset).limit(limit).lean().exec(),
      this.deadLetters.countDocuments(filter).exec(),
    ]);
    return { objects: objects as DeadLetterDocument[], total };
  }

  async notReplayed(scope: AccountScope, limit: number) {
    return (await this.deadLetters
      .find({ ...scopeFilter(scope), replayedAt: null })
      .limit(limit)
      .lean()
      .exec()) as DeadLetterDocument[];
  }

  async markReplayed(accountId: string, eventId: string, at: Date): Promise<void> {
    await this.deadLetters.updateOne({ _id: eventId, accountId }, { $set: { replayedAt: at } }).exec();
  }
}

/** The account's records; a subaccount's scope narrows them to its own. */
function scopeFilter(scope: AccountScope): { accountId: string; subaccountId?: string } {
  return scope.subaccountId
    ? { accountId: scope.accountId, subaccountId: scope.subaccountId }
    : { accountId: scope.accountId };
}

function visibleTo(scope: AccountScope, d: DeadLetterDocument): boolean {
  return !scope.subaccountId || d.subaccountId === scope.subaccountId;
}
