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

  async insert(doc: SessionDocument): Promise<void> {
    await this.model.create(doc);
  }

  /** Undoes an insert whose creation failed after it (the saga's compensation). */
  async removeUnannounced(scope: AccountScope, sessionId: string): Promise<void> {
    await this.model.deleteOne({ _id: sessionId, accountId: scope.accountId }).exec();
  }

  /** A session visible to this scope: a subaccount sees only its own. */
  async get(scope: AccountScope, sessionId: string): Promise<SessionDocument | null> {
    const filter: AccountScope & Partial<SessionDocument> = { accountId: scope.accountId };
    if (scope.subaccountId) filter.subaccountId = scope.subaccountId;
    return this.findByIdScoped(filter, sessionId);
  }

  /** Internal lookups (expiry, orphan checks) that already know the session is real. */
  async getById(sessionId: string): Promise<SessionDocument | null> {
    return (await this.model.findById(sessionId).lean().exec()) as SessionDocument | null;
  }

  async list(filter: FilterQuery<SessionDocument> & { accountId: string }, limit: number, offset: number) {
    const [objects, total] = await Promise.all([
      this.findScoped(filter, { limit, offset, sort: { createdAt: -1, _id: 1 } }),
      this.countScoped(filter),
    ]);
    return { objects, total };
  }

  /** Live sessions for the call routers' snapshot, in a stable order. */
  async activePage(offset: number, limit: number): Promise<SessionDocument[]> {
    return (await this.model
      .find({ status: 'active' })
      .sort({ _id: 1 })
      .skip(offset)
      .limit(limit)
      .lean()
      .exec()) as SessionDocument[];
  }

  async activeOnNumber(virtualNumber: string): Promise<SessionDocument[]> {
    return (await this.model.find({ virtualNumber, status: 'active' }).lean().exec()) as SessionDocument[];
  }

  async dueForExpiry(now: Date, limit: number): Promise<SessionDocument[]> {
    return (await this.model
      .find({ status: 'active', expiresAt: { $lte: now } })
      .sort({ expiresAt: 1 }) // the most overdue first, whatever the limit leaves out
      .limit(limit)
      .lean()
      .exec()) as SessionDocument[];
  }

  async update(sessionId: string, set: Partial<SessionDocument>): Promise<void> {
    await this.model.updateOne({ _id: sessionId }, { $set: set }).exec();
  }
}
