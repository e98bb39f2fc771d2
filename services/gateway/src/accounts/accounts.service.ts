import { Inject, Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { constantTimeEqual } from '@maskline/crypto';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import type { Principal } from '../auth/principal';
import { AccountCredentials } from './account-credentials';
import { AccountRepository } from './account.repository';
import type { Account } from './account.schema';

export interface IssuedCredentials {
  authId: string;
  authToken: string;
  account: Account;
}

interface CachedAccount {
  /** null: no such account (remembered like a found one, so both cost the same). */
  account: Account | null;
  expiresAt: number;
}

const MAX_CACHED = 10_000;
const AUTH_ID = /^(MA|SA)[A-Z0-9]{18}$/;

@Injectable()
export class AccountsService {
  private readonly cache = new Map<string, CachedAccount>();
  /** Compared against when the Auth ID is unknown, so a miss does the same work as a wrong token. */
  private readonly decoyDigest: string;

  constructor(
    private readonly repository: AccountRepository,
    private readonly credentials: AccountCredentials,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.decoyDigest = credentials.digest(credentials.newAuthId('main'), credentials.newAuthToken());
  }

  async createMainAccount(name: string): Promise<IssuedCredentials> {
    const authId = this.credentials.newAuthId('main');
    return this.issue({ _id: authId, kind: 'main', accountId: authId, name, enabled: true });
  }

  async createSubaccount(parentAuthId: string, name: string, enabled = true): Promise<IssuedCredentials> {
    const parent = await this.repository.findForAuthentication(parentAuthId);
    if (!parent || parent.kind !== 'main') throw CodedError.notFound(`account ${parentAuthId} not found`);
    const authId = this.credentials.newAuthId('sub');
    return this.issue({ _id: authId, kind: 'sub', accountId: parent._id, name, enabled });
  }

  async rotateToken(accountId: string, authId: string): Promise<string> {
    const token = this.credentials.newAuthToken();
    const ok = await this.repository.replaceToken(accountId, authId, {
      tokenDigest: this.credentials.digest(authId, token),
      tokenEncrypted: this.credentials.encrypt(authId, token),
    });
    if (!ok) throw CodedError.notFound(`account ${authId} not found`);
    this.cache.delete(authId);
    return token;
  }

  /** The account as its owner (or the operator) may see it; foreign ids are not found. */
  async get(accountId: string, authId: string): Promise<Account> {
    const account = await this.repository.findScoped(accountId, authId);
    if (!account) throw CodedError.notFound(`account ${authId} not found`);
    return account;
  }

  async getForOperator(authId: string): Promise<Account> {
    const account = await this.repository.findForAuthentication(authId);
    if (!account) throw CodedError.notFound(`account ${authId} not found`);
    return account;
  }

  listSubaccounts(accountId: string): Promise<Account[]> {
    return this.repository.listSubaccounts(accountId);
  }

  /**
   * Verifies HTTP Basic credentials. Account records are cached for AUTH_CACHE_TTL_MS; the token
   * is checked against the stored digest on every request, in constant time. An unknown Auth ID
   * costs what a wrong token costs (one store read, then cached; one digest and one comparison),
   * so the time of the answer does not tell whether an Auth ID exists.
   */
  async authenticate(authId: string, token: string): Promise<Principal> {
    const account = await this.lookup(authId);
    const digest = this.credentials.digest(authId, token);
    const matches = constantTimeEqual(digest, account?.tokenDigest ?? this.decoyDigest);
    if (!matches || !account)
      throw new CodedError(
        ErrorCodes.AUTH_FAILED,
        'authentication failed: Auth ID or Auth Token is incorrect',
      );
    if (!account.enabled)
      throw new CodedError(ErrorCodes.AUTH_FAILED, 'authentication failed: account is disabled');
    return {
      authId: account._id,
      accountId: account.accountId,
      kind: account.kind,
      subaccountId: account.kind === 'sub' ? account._id : undefined,
    };
  }

  /** The Auth Token callbacks are signed with: the subaccount's when given, else the main account's. */
  async signingToken(
    accountId: string,
    subaccountId?: string,
  ): Promise<{ authId: string; authToken: string }> {
    const authId = subaccountId ?? accountId;
    const account = await this.repository.findScoped(accountId, authId);
    if (!account) throw CodedError.notFound(`account ${authId} not found`);
    return { authId, authToken: this.credentials.decrypt(authId, account.tokenEncrypted) };
  }

  /** A main account's subaccount, for acting on its behalf (`subaccount` parameter). */
  async requireSubaccount(accountId: string, subaccountId: string): Promise<Account> {
    const sub = await this.lookup(subaccountId);
    if (!sub || sub.kind !== 'sub' || sub.accountId !== accountId) {
      throw new CodedError(
        ErrorCodes.VALIDATION,
        `subaccount: ${subaccountId} is not a subaccount of this account`,
        {
          field: 'subaccount',
        },
      );
    }
    return sub;
  }

  private async issue(fields: Omit<Account, 'createdAt' | 'updatedAt' | 'tokenDigest' | 'tokenEncrypted'>) {
    const token = this.credentials.newAuthToken();
    const account = await this.repository.insert({
      ...fields,
      tokenDigest: this.credentials.digest(fields._id, token),
      tokenEncrypted: this.credentials.encrypt(fields._id, token),
    });
    this.cache.delete(fields._id); // a miss remembered before it existed
    return { authId: fields._id, authToken: token, account };
  }

  /** The account, or null; found and not found are cached alike. Malformed ids name no account. */
  private async lookup(authId: string): Promise<Account | null> {
    if (!AUTH_ID.test(authId)) return null;
    const now = Date.now();
    const hit = this.cache.get(authId);
    if (hit && hit.expiresAt > now) return hit.account;
    const account = await this.repository.findForAuthentication(authId);
    if (!this.cache.has(authId) && this.cache.size >= MAX_CACHED) {
      this.cache.delete(this.cache.keys().next().value as string);
    }
    this.cache.set(authId, { account, expiresAt: now + this.config.AUTH_CACHE_TTL_MS });
    return account;
  }
}
