import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AccountScopedRepository, type ScopedFilter } from '@maskline/persistence';
import { VirtualNumberDocument } from './virtual-number.schema';

export interface NumberListFilter {
  subaccountId?: string | null;
  numberStartsWith?: string;
  numberType?: string;
  alias?: string;
  country?: string;
}

@Injectable()
export class VirtualNumberRepository extends AccountScopedRepository<VirtualNumberDocument> {
  constructor(@InjectModel(VirtualNumberDocument.name) model: Model<VirtualNumberDocument>) {
    super(model);
  }

  /** Any account's record of a number: only to tell "taken by someone else" from "yours". */
  async findAnyAccount(number: string): Promise<VirtualNumberDocument | null> {
    return (await this.model.findById(number).lean().exec()) as VirtualNumberDocument | null;
  }

  get(accountId: string, number: string): Promise<VirtualNumberDocument | null> {
    return this.findByIdScoped({ accountId }, number);
  }

  async insert(doc: Omit<VirtualNumberDocument, 'createdAt' | 'updatedAt'>): Promise<VirtualNumberDocument> {
    return (await this.model.create(doc)).toObject();
  }

  async update(accountId: string, number: string, set: Partial<VirtualNumberDocument>): Promise<void> {
    await this.model.updateOne({ _id: number, accountId }, { $set: set }).exec();
  }

  async list(accountId: string, filter: NumberListFilter, limit: number, offset: number) {
    const query = this.toQuery(accountId, filter);
    const [objects, total] = await Promise.all([
      this.findScoped(query, { limit, offset, sort: { _id: 1 } }),
      this.countScoped(query),
    ]);
    return { objects, total };
  }

  /** Active numbers that may take new sessions for this owner, in the pool's fixed order. */
  async activeForOwner(accountId: string, subaccountId: string | null): Promise<VirtualNumberDocument[]> {
    return this.findScoped(
      { accountId, subaccountId, status: 'active' },
      { limit: 100_000, offset: 0, sort: { _id: 1 } },
    );
  }

  async countForOwner(accountId: string, subaccountId: string | null): Promise<number> {
    return this.countScoped({ accountId, subaccountId, status: 'active' });
  }

  private toQuery(accountId: string, f: NumberListFilter): ScopedFilter<VirtualNumberDocument> {
    const query: ScopedFilter<VirtualNumberDocument> = { accountId, status: 'active' };
    if (f.subaccountId !== undefined) query.subaccountId = f.subaccountId;
    if (f.numberType) query.numberType = f.numberType;
    if (f.alias) query.alias = f.alias;
    if (f.country) query.country = f.country;
    if (f.numberStartsWith) query._id = { $regex: `^\\+${f.numberStartsWith}` };
    return query;
  }
}
