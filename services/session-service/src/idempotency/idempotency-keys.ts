import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { idempotencyKeyInProgress, idempotencyKeyReused, type AccountScope } from '@maskline/contracts';
import { AccountScopedRepository } from '@maskline/persistence';
import { FinishedIdempotencyKeys } from './finished-idempotency-keys';
import { IdempotencyKeyDocument } from './idempotency-key.schema';

export type IdempotencyClaim =
  | { kind: 'new'; sessionId: string; claimedAt: Date }
  | { kind: 'existing'; sessionId: string; claimedAt: Date };

/**
 * `Idempotency-Key` on create: the first request with a key reserves it (a unique insert); a retry
 * with the same body gets the same session; the same key with another body is refused. A retry of
 * a creation that finished is answered from `FinishedIdempotencyKeys` (one KV read); the store is
 * read only for a key whose creation is still running, failed, or was not remembered.
 */
@Injectable()
export class IdempotencyKeys extends AccountScopedRepository<IdempotencyKeyDocument> {
  constructor(
    @InjectModel(IdempotencyKeyDocument.name) model: Model<IdempotencyKeyDocument>,
    private readonly finishedKeys: FinishedIdempotencyKeys,
  ) {
    super(model);
  }

  async claim(
    scope: AccountScope,
    idem: { key: string; requestHash: string },
    sessionId: string,
    tries = 2,
  ): Promise<IdempotencyClaim> {
    const _id = keyId(scope, idem.key);
    const claimedAt = new Date();
    const claimed = await this.insertUnlessTaken({
      _id,
      accountId: scope.accountId,
      requestHash: idem.requestHash,
      sessionId,
      createdAt: claimedAt,
    });
    if (claimed) return { kind: 'new', sessionId, claimedAt };
    const finished = await this.finishedKeys.get(scope.accountId, _id);
    // Another body under a finished key is the store's to refuse: an entry left behind (its forget
    // lost) may name a session gone, whose key a new request has claimed since.
    if (finished && finished.requestHash === idem.requestHash) {
      return { kind: 'existing', sessionId: finished.sessionId, claimedAt: new Date(finished.claimedAt) };
    }
    const existing = await this.own(scope, _id);
    if (!existing) {
      // Freed between our insert and our read (a failed creation forgot it): try once more.
      if (tries > 1) return this.claim(scope, idem, sessionId, tries - 1);
      throw idempotencyKeyInProgress();
    }
    mustMatch(existing.requestHash, idem.requestHash);
    // A key of release 0.1.0 may carry no time: as old as can be.
    return { kind: 'existing', sessionId: existing.sessionId, claimedAt: existing.createdAt ?? new Date(0) };
  }

  /**
   * The key's creation finished: its session is stored with its number, so the key names that
   * session for good, and its retries are answered without reading the store.
   */
  finished(
    scope: AccountScope,
    idem: { key: string; requestHash: string },
    claim: { sessionId: string; claimedAt: Date },
  ): Promise<void> {
    return this.finishedKeys.remember(scope.accountId, keyId(scope, idem.key), {
      requestHash: idem.requestHash,
      sessionId: claim.sessionId,
      claimedAt: claim.claimedAt.getTime(),
    });
  }

  /**
   * A failed creation frees its key, so the client can retry with it: only while the key still
   * names that creation's session. A retry may have claimed the key afresh meanwhile (it found the
   * creation dead and fenced it); the late failure of the first must not free the retry's claim.
   */
  async forget(scope: AccountScope, key: string, sessionId: string): Promise<void> {
    const _id = keyId(scope, key);
    // First: a key still remembered as finished would keep answering with the session forgotten.
    await this.finishedKeys.forget(scope.accountId, _id, sessionId);
    const held = await this.own(scope, _id);
    if (held?.sessionId === sessionId) await this.systemWide.deleteMany({ _id, sessionId });
  }

  /**
   * The scope's key. Release 0.1.0 wrote keys without `accountId`; their id starts with the
   * account (and subaccount) it was made under, so a key under this id is this scope's.
   */
  private async own(scope: AccountScope, _id: string): Promise<IdempotencyKeyDocument | null> {
    const scoped = await this.findByIdScoped({ accountId: scope.accountId }, _id);
    if (scoped) return scoped;
    const legacy = await this.systemWide.findById(_id);
    return legacy && legacy.accountId === undefined ? legacy : null;
  }

  /** System-wide, for the reaper: keys past their retention. */
  purgeSystemWide(olderThan: Date): Promise<number> {
    return this.systemWideSweeps.deleteDue({}, 'createdAt', olderThan);
  }
}

function mustMatch(claimedHash: string, requestHash: string): void {
  if (claimedHash !== requestHash) throw idempotencyKeyReused('request body');
}

/**
 * Keys are the client's to choose, so each scope has its own: a subaccount's `order-1` is not its
 * sibling's (one would otherwise wait for ever on the other's session, which it may not see).
 */
function keyId(scope: AccountScope, key: string): string {
  return scope.subaccountId ? `${scope.accountId}/${scope.subaccountId}:${key}` : `${scope.accountId}:${key}`;
}
