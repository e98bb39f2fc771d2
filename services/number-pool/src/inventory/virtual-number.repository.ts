import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { AccountScope, NumberService } from '@maskline/contracts';
import { AccountScopedRepository, type ScopedFilter } from '@maskline/persistence';
import { VirtualNumberDocument } from './virtual-number.schema';

export interface NumberListFilter {
  subaccountId?: string | null;
  numberStartsWith?: string;
  numberType?: string;
  /** Only numbers that provide each of these: voice, messages (`sms`, `mms`). */
  services?: readonly NumberService[];
  alias?: string;
  country?: string;
}

@Injectable()
export class VirtualNumberRepository extends AccountScopedRepository<VirtualNumberDocument> {
  constructor(@InjectModel(VirtualNumberDocument.name) model: Model<VirtualNumberDocument>) {
    // A number changes account when another account takes it (`takeOverUnconfirmed`).
    super(model, { idsChangeAccount: true });
  }

  /**
   * System-wide: any account's record of a number. To tell "taken by someone else" from "yours",
   * and to route a webhook before its owner is known.
   */
  findAnyAccountSystemWide(number: string): Promise<VirtualNumberDocument | null> {
    return this.systemWide.findById(number);
  }

  get(accountId: string, number: string): Promise<VirtualNumberDocument | null> {
    return this.findByIdScoped({ accountId }, number);
  }

  insert(doc: Omit<VirtualNumberDocument, 'createdAt' | 'updatedAt'>): Promise<VirtualNumberDocument> {
    return this.insertOne(doc);
  }

  /**
   * Inserts the number as `doc.accountId`'s, in place of `from`'s deleted record as it was read:
   * false when that record changed since (its owner added it again), or another account took the
   * number first (the unique id decides).
   */
  async takeOverDeleted(
    from: Pick<VirtualNumberDocument, 'accountId' | 'deletedAt'>,
    doc: Omit<VirtualNumberDocument, 'createdAt' | 'updatedAt'>,
  ): Promise<boolean> {
    // As read: deleted again since (re-added, used, deleted) it is not past its quarantine.
    await this.deleteScoped({
      _id: doc._id,
      accountId: from.accountId,
      status: 'deleted',
      deletedAt: from.deletedAt,
    });
    return this.insertUnlessTaken(doc);
  }

  /**
   * Inserts the number as `doc.accountId`'s, in place of `from`'s record (one its provider never
   * confirmed): false when another account took the number first (the unique id decides). Not
   * conditioned on the record as read: its account could change it without end (re-adding it,
   * updating it) to keep it from its holder, whose provider has just confirmed the number is its.
   */
  async takeOverUnconfirmed(
    from: Pick<VirtualNumberDocument, 'accountId'>,
    doc: Omit<VirtualNumberDocument, 'createdAt' | 'updatedAt'>,
  ): Promise<boolean> {
    await this.deleteScoped({ _id: doc._id, accountId: from.accountId });
    return this.insertUnlessTaken(doc);
  }

  /**
   * The numbers an account holds, its subaccounts' too (or, `subaccountId`, that subaccount's alone):
   * active, or deleted since `quarantinedSince` (out of other accounts' reach still).
   */
  countHeld(accountId: string, quarantinedSince: Date, subaccountId?: string): Promise<number> {
    return this.countScoped({
      accountId,
      ...(subaccountId ? { subaccountId } : {}),
      $or: [{ status: 'active' }, { status: 'deleted', deletedAt: { $gt: quarantinedSince } }],
    });
  }

  async update(accountId: string, number: string, set: Partial<VirtualNumberDocument>): Promise<void> {
    await this.updateOneScoped({ _id: number, accountId }, { $set: set });
  }

  async list(accountId: string, filter: NumberListFilter, limit: number, offset: number) {
    const query = this.toQuery(accountId, filter);
    const [objects, total] = await Promise.all([
      this.findScoped(query, { limit, offset, sort: { _id: 1 } }),
      this.countScoped(query),
    ]);
    return { objects, total };
  }

  /**
   * Updates the number as it was read: still the same account's and holder's within it, with the
   * same status; false when it changed meanwhile (a move to another holder, a delete, a takeover).
   */
  async updateAsRead(
    read: Pick<VirtualNumberDocument, '_id' | 'accountId' | 'subaccountId' | 'status'>,
    set: Partial<VirtualNumberDocument>,
  ): Promise<boolean> {
    const filter = {
      _id: read._id,
      accountId: read.accountId,
      subaccountId: read.subaccountId ?? null,
      status: read.status,
    };
    return (await this.updateOneScoped(filter, { $set: set })) === 1;
  }

  /**
   * Updates the number if it is still this owner's (the account's, and the same holder within it:
   * a subaccount, or the main account), active, and (`serviceSid`) that Service's; false when not.
   */
  async updateHeld(
    scope: AccountScope,
    number: string,
    set: Partial<VirtualNumberDocument>,
    serviceSid?: string,
  ): Promise<boolean> {
    const filter = {
      _id: number,
      accountId: scope.accountId,
      subaccountId: scope.subaccountId ?? null,
      status: 'active',
      ...(serviceSid === undefined ? {} : { proxyServiceSid: serviceSid }),
    };
    return (await this.updateOneScoped(filter, { $set: set })) === 1;
  }

  /** A Proxy Service's numbers that this owner still has, in E.164 order. */
  ofProxyService(scope: AccountScope, serviceSid: string, offset: number, limit: number) {
    return this.findScoped(
      {
        accountId: scope.accountId,
        subaccountId: scope.subaccountId ?? null,
        status: 'active',
        proxyServiceSid: serviceSid,
      },
      { offset, limit, sort: { _id: 1 } },
    );
  }

  /** Takes every number of a Service back from it; the numbers it had. */
  async unassignService(accountId: string, serviceSid: string): Promise<string[]> {
    const numbers = await this.findScoped({ accountId, proxyServiceSid: serviceSid });
    for (const n of numbers)
      await this.update(accountId, n._id, { proxyServiceSid: null, isReserved: false });
    return numbers.map((n) => n._id);
  }

  /** Active numbers that may take new sessions for this owner, in the pool's fixed order. */
  async activeForOwner(accountId: string, subaccountId: string | null): Promise<VirtualNumberDocument[]> {
    return this.findScoped(
      { accountId, subaccountId, status: 'active' },
      { limit: 100_000, offset: 0, sort: { _id: 1 } },
    );
  }

  /** Every account's active numbers (the per-minute utilization sample): bounded by the pool, not by history. */
  activeSystemWide(): Promise<VirtualNumberDocument[]> {
    return this.systemWide.find({ status: 'active' }, {}, ['accountId', 'subaccountId', 'country']);
  }

  /**
   * Every account's numbers with provider credentials, active or deleted since `deletedSince` (whose
   * live sessions may still use them), for the provider holding sweep: bounded by the pool.
   */
  withCredentialsSystemWide(deletedSince: Date): Promise<VirtualNumberDocument[]> {
    return this.systemWide.find(
      {
        credentials: { $ne: null },
        $or: [{ status: 'active' }, { status: 'deleted', deletedAt: { $gt: deletedSince } }],
      },
      {},
      ['accountId', 'provider', 'credentials', 'providerHolding'],
    );
  }

  async countForOwner(accountId: string, subaccountId: string | null): Promise<number> {
    return this.countScoped({ accountId, subaccountId, status: 'active' });
  }

  private toQuery(accountId: string, f: NumberListFilter): ScopedFilter<VirtualNumberDocument> {
    const query: ScopedFilter<VirtualNumberDocument> = { accountId, status: 'active' };
    if (f.subaccountId !== undefined) query.subaccountId = f.subaccountId;
    if (f.numberType) query.numberType = f.numberType;
    // Absent on a record written before the flags: enabled.
    if (f.services?.includes('voice')) query.voiceEnabled = { $ne: false };
    if (f.services?.some((s) => s !== 'voice')) query.smsEnabled = { $ne: false };
    if (f.alias) query.alias = f.alias;
    if (f.country) query.country = f.country;
    if (f.numberStartsWith) query._id = { $regex: `^\\+${f.numberStartsWith}` };
    return query;
  }
}
