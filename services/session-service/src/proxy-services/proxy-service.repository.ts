import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { AccountScope } from '@maskline/contracts';
import { AccountScopedRepository } from '@maskline/persistence';
import { ProxyServiceDocument, ProxyServiceNameDocument } from './proxy-service.schema';

/** The owner a Service belongs to: the subaccount when there is one, else the main account. */
export function ownerOf(scope: AccountScope): string {
  return scope.subaccountId ?? scope.accountId;
}

@Injectable()
export class ProxyServiceRepository extends AccountScopedRepository<ProxyServiceDocument> {
  constructor(@InjectModel(ProxyServiceDocument.name) model: Model<ProxyServiceDocument>) {
    super(model);
  }

  insert(doc: Omit<ProxyServiceDocument, 'createdAt' | 'updatedAt'>): Promise<ProxyServiceDocument> {
    return this.insertOne(doc);
  }

  /** A Service of this owner (a subaccount sees only its own; the main account only its own too). */
  get(scope: AccountScope, sid: string): Promise<ProxyServiceDocument | null> {
    return this.findByIdScoped({ accountId: scope.accountId, subaccountId: scope.subaccountId ?? null }, sid);
  }

  /** How many Services the main account holds, its subaccounts' included (the cap's count). */
  countOfAccount(accountId: string): Promise<number> {
    return this.countScoped({ accountId });
  }

  list(scope: AccountScope, offset: number, limit: number): Promise<ProxyServiceDocument[]> {
    return this.findScoped(
      { accountId: scope.accountId, subaccountId: scope.subaccountId ?? null },
      { offset, limit, sort: { createdAt: -1, _id: 1 } },
    );
  }

  async update(scope: AccountScope, sid: string, set: Partial<ProxyServiceDocument>): Promise<boolean> {
    return (
      (await this.updateOneScoped(
        { _id: sid, accountId: scope.accountId, subaccountId: scope.subaccountId ?? null },
        { $set: set },
      )) === 1
    );
  }

  remove(scope: AccountScope, sid: string): Promise<void> {
    return this.deleteScoped({
      _id: sid,
      accountId: scope.accountId,
      subaccountId: scope.subaccountId ?? null,
    });
  }
}

@Injectable()
export class ProxyServiceNameRepository extends AccountScopedRepository<ProxyServiceNameDocument> {
  constructor(@InjectModel(ProxyServiceNameDocument.name) model: Model<ProxyServiceNameDocument>) {
    super(model);
  }

  /** Holds `name` for the Service; false when another holds it. */
  hold(scope: AccountScope, name: string, serviceSid: string): Promise<boolean> {
    return this.insertUnlessTaken({ _id: nameKey(scope, name), accountId: scope.accountId, serviceSid });
  }

  /** The hold on `name`, if any: the Service it is for, and since when. */
  holder(scope: AccountScope, name: string): Promise<ProxyServiceNameDocument | null> {
    return this.findByIdScoped({ accountId: scope.accountId }, nameKey(scope, name));
  }

  release(scope: AccountScope, name: string, serviceSid: string): Promise<void> {
    return this.deleteScoped({ _id: nameKey(scope, name), accountId: scope.accountId, serviceSid });
  }
}

function nameKey(scope: AccountScope, name: string): string {
  return `${ownerOf(scope)}|${name}`;
}
