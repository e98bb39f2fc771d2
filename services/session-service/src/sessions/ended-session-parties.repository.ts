import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AccountScopedRepository } from '@maskline/persistence';
import { EndedSessionPartiesDocument } from './ended-session-parties.schema';

/**
 * Ended sessions' party numbers in clear, for as long as they may be shown: written before the
 * session's record, read with it, and deleted (never updated) by the redaction and retention sweeps.
 * It holds PARTY_REDACTION_AFTER_HOURS of ended sessions, plus those of accounts that keep numbers.
 */
@Injectable()
export class EndedSessionParties extends AccountScopedRepository<EndedSessionPartiesDocument> {
  constructor(@InjectModel(EndedSessionPartiesDocument.name) model: Model<EndedSessionPartiesDocument>) {
    super(model, { growsWithHistory: true });
  }

  /** Keeps these sessions' numbers; a session's second keep is a no-op. */
  keep(docs: EndedSessionPartiesDocument[]): Promise<void> {
    return this.insertManyKeepingFirst(docs);
  }

  /** One session's numbers, kept with those of the expiries running with it. */
  async keepOne(doc: EndedSessionPartiesDocument): Promise<void> {
    await this.insertUnlessTaken(doc);
  }

  /** An account's session's numbers, if still kept. */
  of(accountId: string, sessionId: string): Promise<EndedSessionPartiesDocument | null> {
    return this.findByIdScoped({ accountId }, sessionId);
  }

  /** An account's sessions' numbers still kept, by session id (a page of the list). */
  async ofMany(
    accountId: string,
    sessionIds: readonly string[],
  ): Promise<Map<string, EndedSessionPartiesDocument>> {
    if (sessionIds.length === 0) return new Map();
    const found = await this.findScoped(
      { accountId, _id: { $in: [...sessionIds] } },
      { limit: sessionIds.length, offset: 0 },
    );
    return new Map(found.map((p) => [p._id, p]));
  }

  /**
   * Redaction: the numbers of sessions that ended before `endedBefore`, except those of accounts
   * that keep them, as one range (slices of it when the store refuses one that large). Served by `{ endedAt }`.
   */
  redactDueSystemWide(endedBefore: Date, exceptAccounts: readonly string[]): Promise<number> {
    const filter = exceptAccounts.length > 0 ? { accountId: { $nin: [...exceptAccounts] } } : {};
    return this.systemWideSweeps.deleteDue(filter, 'endedAt', endedBefore);
  }

  /** Retention: every account's numbers of sessions that ended before `endedBefore`. Served by `{ endedAt }`. */
  purgeSystemWide(endedBefore: Date): Promise<number> {
    return this.systemWideSweeps.deleteDue({}, 'endedAt', endedBefore);
  }
}
