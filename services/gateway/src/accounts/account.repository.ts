import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { Account } from './account.schema';

/**
 * Accounts are looked up by Auth ID at authentication (before a tenant is known); every other
 * read is scoped by the main account id.
 */
@Injectable()
export class AccountRepository {
  constructor(@InjectModel(Account.name) private readonly model: Model<Account>) {}

  async insert(account: Omit<Account, 'createdAt' | 'updatedAt'>): Promise<Account> {
    const created = await this.model.create(account);
    return created.toObject();
  }

  /** Authentication only: the credentials name the account. */
  async findForAuthentication(authId: string): Promise<Account | null> {
    return (await this.model.findById(authId).lean().exec()) as Account | null;
  }

  async findScoped(accountId: string, authId: string): Promise<Account | null> {
    return (await this.model.findOne({ _id: authId, accountId }).lean().exec()) as Account | null;
  }

  async listSubaccounts(accountId: string): Promise<Account[]> {
    return (await this.model.find({ accountId, kind: 'sub' }).sort({ _id: 1 }).lean().exec()) as Account[];
  }

  async replaceToken(
    accountId: string,
    authId: string,
    token: Pick<Account, 'tokenDigest' | 'tokenEncrypted'>,
  ): Promise<boolean> {
    const res = await this.model.updateOne({ _id: authId, accountId }, { $set: token }).exec();
    return res.matchedCount === 1;
  }
}
