import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { CodedError, type AccountScope } from '@maskline/contracts';
import { isDuplicateKeyError } from '@maskline/persistence';
import { IdempotencyKeyDocument } from './idempotency-key.schema';

export type IdempotencyClaim = { kind: 'new'; sessionId: string } | { kind: 'existing'; sessionId: string };

/**
 * `Idempotency-Key` on create: the first request with a key reserves it (a unique insert); a retry
 * with the same body gets the same session; the same key with another body is refused.
 */
@Injectable()
export class IdempotencyKeys {
  constructor(
    @InjectModel(IdempotencyKeyDocument.name) private readonly model: Model<IdempotencyKeyDocument>,
  ) {}

  async claim(
    scope: AccountScope,
    idem: { key: string; requestHash: string },
    sessionId: string,
  ): Promise<IdempotencyClaim> {
    const _id = keyId(scope, idem.key);
    try {
      await this.model.create({ _id, requestHash: idem.requestHash, sessionId, createdAt: new Date() });
      return { kind: 'new', sessionId };
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
    const existing = (await this.model.findById(_id).lean().exec()) as IdempotencyKeyDocument | null;
    if (!existing) return this.claim(scope, idem, sessionId);
    if (existing.requestHash !== idem.requestHash) {
      throw new CodedError(
        'SESSION.IDEMPOTENCY_MISMATCH',
        'Idempotency-Key was already used with a different request body',
        { field: 'Idempotency-Key' },
      );
    }
    return { kind: 'existing', sessionId: existing.sessionId };
  }

  /** A failed creation frees its key, so the client can retry with it. */
  async forget(scope: AccountScope, key: string): Promise<void> {
    await this.model.deleteOne({ _id: keyId(scope, key) }).exec();
  }

  async purge(olderThan: Date, limit: number): Promise<number> {
    const old = await this.model
      .find({ createdAt: { $lt: olderThan } })
      .limit(limit)
      .lean()
      .exec();
    for (const k of old) await this.model.deleteOne({ _id: k._id }).exec();
    return old.length;
  }
}

/**
 * Keys are the client's to choose, so each scope has its own: a subaccount's `order-1` is not its
 * sibling's (one would otherwise wait for ever on the other's session, which it may not see).
 */
function keyId(scope: AccountScope, key: string): string {
  return scope.subaccountId ? `${scope.accountId}/${scope.subaccountId}:${key}` : `${scope.accountId}:${key}`;
}
