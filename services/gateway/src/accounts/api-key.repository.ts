import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AccountScopedRepository } from '@maskline/persistence';
import { ApiKey } from './api-key.schema';

/** API keys, keyed by their main account; found system-wide by SID only at authentication. */
@Injectable()
export class ApiKeyRepository extends AccountScopedRepository<ApiKey> {
  constructor(@InjectModel(ApiKey.name) model: Model<ApiKey>) {
    super(model);
  }

  insert(key: Omit<ApiKey, 'createdAt' | 'updatedAt'>): Promise<ApiKey> {
    return this.insertOne(key);
  }

  /** System-wide, for authentication only: the credentials name the key. */
  findForAuthentication(sid: string): Promise<ApiKey | null> {
    return this.systemWide.findById(sid);
  }

  /** An account's keys (`authId` undefined: every key of the main account and its subaccounts). */
  listOf(accountId: string, authId: string | undefined): Promise<ApiKey[]> {
    return this.findScoped(
      { accountId, ...(authId ? { authId } : {}) },
      { limit: 1000, offset: 0, sort: { _id: 1 } },
    );
  }

  /** Deletes the key if it is this account's; whether it was. */
  async remove(accountId: string, authId: string | undefined, sid: string): Promise<boolean> {
    const filter = { _id: sid, accountId, ...(authId ? { authId } : {}) };
    if (!(await this.findOneScoped(filter))) return false;
    await this.deleteScoped(filter);
    return true;
  }
}
