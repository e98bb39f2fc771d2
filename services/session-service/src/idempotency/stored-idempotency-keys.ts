import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { AccountScope } from '@maskline/contracts';
import { AccountScopedRepository } from '@maskline/persistence';
import { IdempotencyKeyDocument } from './idempotency-key.schema';

/**
 * The Idempotency-Keys earlier versions kept in the store (`idempotency_keys`; NATS KV since
 * 2026-11-30, `IdempotencyKeys`). Only read while some may be left: a retry of a create an earlier
 * version answered (during a rolling upgrade, or within a day of it) still gets its session.
 */
@Injectable()
export class StoredIdempotencyKeys extends AccountScopedRepository<IdempotencyKeyDocument> {
  constructor(@InjectModel(IdempotencyKeyDocument.name) model: Model<IdempotencyKeyDocument>) {
    super(model);
  }

  /**
   * The scope's key under `_id`. Release 0.1.0 wrote keys without `accountId`; their id starts with
   * the account (and subaccount) it was made under, so a key under this id is this scope's.
   */
  async own(scope: AccountScope, _id: string): Promise<IdempotencyKeyDocument | null> {
    // One read by id (the id names the scope); the account is checked on what it finds.
    const doc = await this.systemWide.findById(_id);
    return doc && (doc.accountId === scope.accountId || doc.accountId === undefined) ? doc : null;
  }

  /** Frees the key only while it still names `sessionId`. */
  async forget(_id: string, sessionId: string): Promise<void> {
    await this.systemWide.deleteMany({ _id, sessionId });
  }

  /** Whether any is left (one document read, however many there are). */
  async anyLeft(): Promise<boolean> {
    return (await this.systemWide.find({}, { limit: 1 }, ['_id'])).length > 0;
  }

  /** The retention sweep: keys past their retention. Served by `{ createdAt }`. */
  purgeSystemWide(olderThan: Date): Promise<number> {
    return this.systemWideSweeps.deleteDue({}, 'createdAt', olderThan);
  }
}
