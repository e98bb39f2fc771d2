import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AccountScopedRepository } from '@maskline/persistence';
import { Account } from './account.schema';

/**
 * Accounts, keyed by their main account (a main account's own record names itself). Looked up
 * system-wide by Auth ID only at authentication, before a tenant is known; every other read is
 * scoped by the main account id.
 */
@Injectable()
export class AccountRepository extends AccountScopedRepository<Account> {
  constructor(@InjectModel(Account.name) model: Model<Account>) {
    super(model);
  }

  insert(account: Omit<Account, 'createdAt' | 'updatedAt'>): Promise<Account> {
    return this.insertOne(account);
  }

  /** System-wide, for authentication only: the credentials name the account. */
  findForAuthentication(authId: string): Promise<Account | null> {
    return this.systemWide.findById(authId);
  }

  /** An account of this main account (itself, or one of its subaccounts). */
  ofAccount(accountId: string, authId: string): Promise<Account | null> {
    return this.findByIdScoped({ accountId }, authId);
  }

  /** The operator's list: every main account, by Auth ID, a page at a time; and how many there are. */
  async listMainSystemWide(limit: number, offset: number): Promise<{ total: number; objects: Account[] }> {
    const [objects, total] = await Promise.all([
      this.systemWide.find({ kind: 'main' }, { sort: { _id: 1 }, limit, offset }),
      this.systemWide.count({ kind: 'main' }),
    ]);
    return { total, objects };
  }

  /** How many subaccounts the main account holds (SUBACCOUNTS_MAX), by the index the list uses. */
  countSubaccounts(accountId: string): Promise<number> {
    return this.countScoped({ accountId, kind: 'sub' });
  }

  listSubaccounts(accountId: string): Promise<Account[]> {
    return this.findScoped({ accountId, kind: 'sub' }, { limit: 10_000, offset: 0, sort: { _id: 1 } });
  }

  async replaceToken(
    accountId: string,
    authId: string,
    token: Pick<Account, 'tokenDigest' | 'tokenEncrypted'>,
  ): Promise<boolean> {
    return (await this.updateOneScoped({ _id: authId, accountId }, { $set: token })) === 1;
  }
}
