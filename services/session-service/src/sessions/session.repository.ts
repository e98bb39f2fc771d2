import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { FilterQuery, Model } from 'mongoose';
import type { AccountScope } from '@maskline/contracts';
import { AccountScopedRepository } from '@maskline/persistence';
import { SessionDocument } from './session.schema';

@Injectable()
export class SessionRepository extends AccountScopedRepository<SessionDocument> {
  constructor(@InjectModel(SessionDocument.name) model: Model<SessionDocument>) {
    super(model);
  }

  /** Stores a new session; false when its id is taken (the orphan reaper abandoned the creation). */
  insert(doc: SessionDocument): Promise<boolean> {
    return this.insertUnlessTaken(doc);
  }

  /**
   * The orphan reaper's fence: takes a creation's session id with a tombstone, so that the creation
   * can never store it later. True when the tombstone went in (the session will never exist); false
   * when the session was stored first.
   */
  abandonSystemWide(tombstone: SessionDocument): Promise<boolean> {
    return this.insertUnlessTaken({ ...tombstone, abandoned: true });
  }

  /** Whether the id is an abandoned creation's tombstone. */
  async isAbandonedSystemWide(sessionId: string): Promise<boolean> {
    return (await this.systemWide.findById(sessionId))?.abandoned === true;
  }

  /** A session visible to this scope: a subaccount sees only its own. */
  async get(scope: AccountScope, sessionId: string): Promise<SessionDocument | null> {
    const filter: AccountScope & Partial<SessionDocument> = { accountId: scope.accountId };
    if (scope.subaccountId) filter.subaccountId = scope.subaccountId;
    const doc = await this.findByIdScoped(filter, sessionId);
    return doc?.abandoned ? null : doc;
  }

  async list(filter: FilterQuery<SessionDocument> & { accountId: string }, limit: number, offset: number) {
    const visible = { ...filter, abandoned: { $ne: true } };
    const [objects, total] = await Promise.all([
      this.findScoped(visible, { limit, offset, sort: { createdAt: -1, _id: 1 } }),
      this.countScoped(visible),
    ]);
    return { objects, total };
  }

  /** Changes a session of the account while it is active; false when it is not (ended meanwhile). */
  async updateActive(
    scope: AccountScope,
    sessionId: string,
    set: Partial<SessionDocument>,
  ): Promise<boolean> {
    const matched = await this.updateOneScoped(
      { _id: sessionId, accountId: scope.accountId, status: 'active' },
      { $set: set },
    );
    return matched > 0;
  }

  // ---- System-wide: the system's own work on every account's sessions. ----

  /** Expiry and orphan checks, which start from a session id the system itself holds. */
  getByIdSystemWide(sessionId: string): Promise<SessionDocument | null> {
    return this.systemWide.findById(sessionId);
  }

  /** Live sessions for the call routers' snapshot, in a stable order. */
  activePageSystemWide(offset: number, limit: number): Promise<SessionDocument[]> {
    return this.systemWide.find({ status: 'active' }, { sort: { _id: 1 }, offset, limit });
  }

  /** Live sessions on a number, every account's (the router confines them to the number's owner). */
  activeOnNumberSystemWide(virtualNumber: string): Promise<SessionDocument[]> {
    return this.systemWide.find({ virtualNumber, status: 'active' });
  }

  /** The expiry sweep: the most overdue first, whatever the limit leaves out. */
  dueForExpirySystemWide(now: Date, limit: number): Promise<SessionDocument[]> {
    return this.systemWide.find(
      { status: 'active', expiresAt: { $lte: now } },
      { sort: { expiresAt: 1 }, limit },
    );
  }

  /** The expiry sweep's write (it holds the session's claim). */
  markExpiredSystemWide(sessionId: string, set: Partial<SessionDocument>): Promise<void> {
    return this.systemWide.updateById(sessionId, { $set: set });
  }

  /** The redaction sweep: sessions ended before `endedBefore` whose numbers are still in clear. */
  unredactedEndedBeforeSystemWide(
    endedBefore: Date,
    exceptAccounts: readonly string[],
    limit: number,
  ): Promise<SessionDocument[]> {
    return this.systemWide.find(
      {
        status: 'expired',
        expiredAt: { $ne: null, $lte: endedBefore },
        redactedAt: null,
        ...(exceptAccounts.length > 0 ? { accountId: { $nin: [...exceptAccounts] } } : {}),
      },
      { limit },
    );
  }

  /** The redaction sweep's write: the parties' digests in place of their numbers. */
  redactSystemWide(
    sessionId: string,
    set: Pick<SessionDocument, 'firstParty' | 'secondParty' | 'redactedAt'>,
  ): Promise<void> {
    return this.systemWide.updateById(sessionId, { $set: set });
  }

  /** The retention sweep: sessions that ended before `endedBefore`, their ids alone. */
  async endedBeforeSystemWide(endedBefore: Date, limit: number): Promise<string[]> {
    const rows = await this.systemWide.find(
      { status: 'expired', expiredAt: { $ne: null, $lte: endedBefore } },
      { limit },
      ['_id'],
    );
    return rows.map((r) => r._id);
  }

  /** The retention sweep's delete. */
  deleteSystemWide(sessionIds: readonly string[]): Promise<number> {
    return this.systemWide.deleteByIds(sessionIds);
  }
}
