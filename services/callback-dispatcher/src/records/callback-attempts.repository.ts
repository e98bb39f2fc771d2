import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { AccountScopedRepository } from '@maskline/persistence';
import { CallbackAttemptDocument } from './callback-records.schema';

/** Every try to deliver a callback: inserted, never changed. */
@Injectable()
export class CallbackAttempts extends AccountScopedRepository<CallbackAttemptDocument> {
  constructor(@InjectModel(CallbackAttemptDocument.name) model: Model<CallbackAttemptDocument>) {
    super(model, { growsWithHistory: true });
  }

  async record(attempt: Omit<CallbackAttemptDocument, '_id'>): Promise<void> {
    await this.insertOne({ ...attempt, _id: randomUUID() });
  }

  ofSession(accountId: string, sessionId: string): Promise<CallbackAttemptDocument[]> {
    return this.findScoped({ accountId, sessionId }, { limit: 10_000, offset: 0, sort: { at: 1 } });
  }

  /** An account's attempts since a time, newest first, at most `limit`: for the statistics. Served by `{ accountId, at }`. */
  since(accountId: string, since: Date, limit: number): Promise<CallbackAttemptDocument[]> {
    return this.findScoped({ accountId, at: { $gte: since } }, { limit, offset: 0, sort: { at: -1 } }, [
      'at',
      'url',
      'outcome',
      'statusCode',
      'latencyMs',
      'error',
    ]);
  }

  /** The retention sweep: attempts made before `before`, as one range (slices of it when the store refuses one that large). Served by `{ at }`. */
  purgeSystemWide(before: Date): Promise<number> {
    return this.systemWideSweeps.deleteDue({}, 'at', before);
  }
}
