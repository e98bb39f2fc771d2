import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { FilterQuery, Model } from 'mongoose';
import type { AccountScope } from '@maskline/contracts';
import { AccountScopedRepository } from '@maskline/persistence';
import { CallbackPartyRedaction } from '../privacy/callback-party-redaction';
import { DeadLetterDocument } from './callback-records.schema';

/** Callbacks that could not be delivered, kept for a replay; a subaccount sees only its own. */
@Injectable()
export class DeadLetters extends AccountScopedRepository<DeadLetterDocument> {
  constructor(
    @InjectModel(DeadLetterDocument.name) model: Model<DeadLetterDocument>,
    private readonly redaction: CallbackPartyRedaction,
  ) {
    super(model, { growsWithHistory: true });
  }

  /**
   * Records the dead letter. A replay that fails again updates it (new reason, replayable again) and
   * keeps its date, when it first failed: the redaction of its numbers and its retention count from
   * then. (Dated again at each failure, a tenant whose endpoint answers 400 kept its letters' numbers
   * in clear, and the letters, for as long as it replayed them a day apart.) A redelivery after a
   * crash writes the same thing.
   */
  async record(letter: DeadLetterDocument): Promise<void> {
    if (await this.insertNew(letter)) return;
    await this.rewrite(letter);
  }

  /**
   * A callback judged lost (`LostRetrySweeper`: its event forgotten while it was put off): recorded,
   * unless its letter is there already and not replayed since, which means its callback ended in
   * that letter and its watch outlived it (that letter's reason stands). A replay's lost retry
   * (`ofReplay`) updates its replayed letter. Whether it was written.
   */
  async recordLost(letter: DeadLetterDocument, ofReplay: boolean): Promise<boolean> {
    if (await this.insertNew(letter)) return true;
    if (!ofReplay) return false;
    // Only while it is marked replayed, in one statement (a replay that dead-letters it again meanwhile
    // wins). Its date stands (`record`).
    const { _id, accountId, reason, attempts, url, at } = letter;
    const matched = await this.updateOneScoped(
      { _id, accountId, replayedAt: { $ne: null } },
      { $set: { reason, attempts, url, lastFailedAt: at, replayedAt: null } },
    );
    return matched > 0;
  }

  private insertNew(letter: DeadLetterDocument): Promise<boolean> {
    const redactedParams = this.redaction.redactedParams(letter.accountId, letter.params);
    return this.insertUnlessTaken({ ...letter, redactedParams, digestKeyId: this.redaction.keyId });
  }

  private async rewrite(letter: DeadLetterDocument): Promise<void> {
    const { _id, accountId, reason, attempts, url, at } = letter;
    await this.updateOneScoped(
      { _id, accountId },
      { $set: { reason, attempts, url, lastFailedAt: at, replayedAt: null } },
    );
  }

  /** A dead letter the scope may see: the account's, and for a subaccount only its own. */
  one(scope: AccountScope, eventId: string): Promise<DeadLetterDocument | null> {
    return this.findByIdScoped(scopeFilter(scope), eventId);
  }

  ofSession(accountId: string, sessionId: string): Promise<DeadLetterDocument[]> {
    return this.findScoped({ accountId, sessionId }, { limit: 10_000, offset: 0, sort: { at: -1 } });
  }

  async page(scope: AccountScope, limit: number, offset: number) {
    const filter = scopeFilter(scope);
    const [objects, total] = await Promise.all([
      this.findScoped(filter, { limit, offset, sort: { at: -1 } }),
      this.countScoped(filter),
    ]);
    return { objects, total };
  }

  notReplayed(scope: AccountScope, limit: number): Promise<DeadLetterDocument[]> {
    return this.findScoped({ ...scopeFilter(scope), replayedAt: null }, { limit, offset: 0 });
  }

  /**
   * Marks the letter, as read, replayed: only while its last failure is the one read. A replay that
   * failed at once and wrote the letter again before this mark landed (its new failure, replayable)
   * is not marked over (marked, it showed replayed and left replay-all for good). Whether it was.
   */
  async markReplayed(
    letter: Pick<DeadLetterDocument, '_id' | 'accountId' | 'lastFailedAt'>,
    at: Date,
  ): Promise<boolean> {
    const lastFailure = letter.lastFailedAt
      ? { lastFailedAt: letter.lastFailedAt }
      : { lastFailedAt: { $exists: false } };
    const matched = await this.updateOneScoped(
      { _id: letter._id, accountId: letter.accountId, ...lastFailure },
      { $set: { replayedAt: at } },
    );
    return matched > 0;
  }

  /**
   * The redaction sweep, in one statement however many are due (on FerretDB: one scan to find them,
   * then a write each by `_id`): in each letter from before `before` with its numbers in clear, the
   * redacted parameters recorded with it under the current key take the parameters' place. Served by
   * `{ at }`. The rest (an earlier version's, or recorded under an earlier key) are
   * `…WithoutCurrentDigests`'.
   */
  redactDueSystemWide(before: Date, exceptAccounts: readonly string[], at: Date): Promise<number> {
    return this.systemWideSweeps.updateMany(
      { ...unredactedBefore(before, exceptAccounts), digestKeyId: this.redaction.keyId },
      {
        $rename: { redactedParams: 'params' },
        $set: { redactedAt: at },
        $unset: { digestKeyId: '', sealedRecordingUrl: '' },
      },
    );
  }

  /**
   * The redaction sweep's catch-up, served by `{ at }`: letters still in clear without digests under
   * the current key (an earlier version wrote them, or the key has changed since).
   */
  unredactedWithoutCurrentDigestsSystemWide(
    before: Date,
    exceptAccounts: readonly string[],
    limit: number,
  ): Promise<DeadLetterDocument[]> {
    return this.systemWideSweeps.find(
      { ...unredactedBefore(before, exceptAccounts), digestKeyId: { $ne: this.redaction.keyId } },
      { limit },
    );
  }

  /** The catch-up's write: the parameters redacted, and no digests of another key. */
  redactSystemWide(id: string, set: Pick<DeadLetterDocument, 'params' | 'redactedAt'>): Promise<void> {
    return this.systemWideSweeps.updateById(id, {
      $set: set,
      $unset: { redactedParams: '', digestKeyId: '', sealedRecordingUrl: '' },
    });
  }

  /** The retention sweep: dead letters from before `before`, as one range (slices of it when the store refuses one that large). Served by `{ at }`. */
  purgeSystemWide(before: Date): Promise<number> {
    return this.systemWideSweeps.deleteDue({}, 'at', before);
  }
}

/**
 * A letter's replay, one per failure: asking twice (or retrying after a failed publish) publishes it
 * once (its id is the replay's message id), and a replay that failed again is replayable again. A
 * letter no replay of which has failed is known by `at`, as an earlier version knew every letter.
 */
export function replayIdOf(letter: Pick<DeadLetterDocument, 'at' | 'lastFailedAt'>): string {
  return `${(letter.lastFailedAt ?? letter.at).getTime()}`;
}

/** The account's records; a subaccount's scope narrows them to its own. */
function scopeFilter(scope: AccountScope): { accountId: string; subaccountId?: string } {
  return scope.subaccountId
    ? { accountId: scope.accountId, subaccountId: scope.subaccountId }
    : { accountId: scope.accountId };
}

/** From before `before`, numbers in clear, and not of an account that keeps them. */
function unredactedBefore(before: Date, exceptAccounts: readonly string[]): FilterQuery<DeadLetterDocument> {
  return {
    at: { $lte: before },
    redactedAt: null,
    ...(exceptAccounts.length > 0 ? { accountId: { $nin: [...exceptAccounts] } } : {}),
  };
}
