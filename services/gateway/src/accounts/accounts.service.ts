import { UnauthenticatedLookups } from '@maskline/resilience';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { AccountCredentialsChanged, CodedError, ErrorCodes } from '@maskline/contracts';
import { EventPublisher, InvalidatedCache, NATS_CONNECTION } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
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

const MAX_CACHED = 10_000;
const AUTH_ID = /^(MA|SA)[A-Z0-9]{18}$/;

@Injectable()
export class AccountsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** Accounts found, and Auth IDs found to name none: cached alike, kept apart (made-up ids cannot push real ones out). */
  private readonly found: InvalidatedCache<string, Account | null>;
  private readonly missing: InvalidatedCache<string, null>;
  /** Reads of Auth IDs not cached (any request may name one, made up): bounded. */
  private readonly lookups = new UnauthenticatedLookups('Auth ID');
  /** Compared against when the Auth ID is unknown, so a miss does the same work as a wrong token. */
  private readonly decoyDigest: string;

  constructor(
    private readonly repository: AccountRepository,
    private readonly credentials: AccountCredentials,
    private readonly events: EventPublisher,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.decoyDigest = credentials.digest(credentials.newAuthId('main'), credentials.newAuthToken());
    const options = { ttlMs: config.AUTH_CACHE_TTL_MS, maxEntries: MAX_CACHED };
    // In fair shares by tenant: one with many subaccounts cannot push other tenants' out.
    this.found = new InvalidatedCache({ ...options, ownerOf: (authId, a) => a?.accountId ?? authId });
    this.missing = new InvalidatedCache(options);
  }

  async onApplicationBootstrap(): Promise<void> {
    await InvalidatedCache.followTogether(
      [this.found, this.missing],
      this.nc,
      AccountCredentialsChanged,
      (p) => p.authId,
      (err) => this.logger.warn({ err }, 'account changes missed: credentials are read afresh'),
    );
  }

  /** Before the connection drains (its closer runs on application shutdown). */
  beforeApplicationShutdown(): void {
    this.found.stopFollowing();
    this.missing.stopFollowing();
  }

  async createMainAccount(name: string): Promise<IssuedCredentials> {
    const authId = this.credentials.newAuthId('main');
    return this.issue({ _id: authId, kind: 'main', accountId: authId, name, enabled: true });
  }

  async createSubaccount(parentAuthId: string, name: string, enabled = true): Promise<IssuedCredentials> {
    const parent = await this.repository.findForAuthentication(parentAuthId);
    if (!parent || parent.kind !== 'main') throw CodedError.notFound(`account ${parentAuthId} not found`);
    // Approximate under creates sent at once (by as many as are under way): a bound on what one
    // account keeps for good, not a quota to the unit.
    const limit = this.config.SUBACCOUNTS_MAX;
    if ((await this.repository.countSubaccounts(parent._id)) >= limit) {
      throw new CodedError(
        ErrorCodes.CONFLICT,
        `this account holds ${limit} subaccounts, the most it may (SUBACCOUNTS_MAX, set by the operator)`,
      );
    }
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
    // Every replica forgets the old token (this one at once, the others when they hear it).
    this.found.invalidate(authId);
    await this.events.publish(
      AccountCredentialsChanged,
      { authId, at: new Date().toISOString() },
      { msgId: `account-credentials:${authId}:${randomUUID()}` },
    );
    return token;
  }

  /** The account as its owner (or the operator) may see it; foreign ids are not found. */
  async get(accountId: string, authId: string): Promise<Account> {
    const account = await this.repository.ofAccount(accountId, authId);
    if (!account) throw CodedError.notFound(`account ${authId} not found`);
    return account;
  }

  async getForOperator(authId: string): Promise<Account> {
    const account = await this.repository.findForAuthentication(authId);
    if (!account) throw CodedError.notFound(`account ${authId} not found`);
    return account;
  }

  listMainAccounts(limit: number, offset: number) {
    return this.repository.listMainSystemWide(limit, offset);
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
    return (await this.authenticateWithDigest(authId, token)).principal;
  }

  /** As `authenticate`, with the stored digest the token matched (what a console session is stamped with). */
  async authenticateWithDigest(
    authId: string,
    token: string,
  ): Promise<{ principal: Principal; tokenDigest: string }> {
    const account = await this.lookup(authId);
    const digest = this.credentials.digest(authId, token);
    const matches = constantTimeEqual(digest, account?.tokenDigest ?? this.decoyDigest);
    if (!matches || !account)
      throw new CodedError(
        ErrorCodes.AUTH_FAILED,
        'authentication failed: Auth ID or Auth Token is incorrect',
      );
    return { principal: principalOf(account), tokenDigest: account.tokenDigest };
  }

  /** Who an API key of the account `authId` acts as: the account, which must exist and be enabled. */
  async principalOf(authId: string): Promise<Principal> {
    const account = await this.lookup(authId, { bounded: false });
    if (!account) {
      throw new CodedError(ErrorCodes.AUTH_FAILED, 'authentication failed: the account of this key is gone');
    }
    return principalOf(account);
  }

  /**
   * The stored digest of the account's Auth Token (cached like authentication): it changes when the
   * token is rotated, which ends the console sessions opened with the old one. Refused, like
   * authentication, for an account that is gone or disabled.
   */
  async credentialDigest(authId: string): Promise<string> {
    const account = await this.lookup(authId, { bounded: false });
    if (!account)
      throw new CodedError(ErrorCodes.AUTH_FAILED, `authentication failed: account ${authId} is gone`);
    principalOf(account); // throws when disabled
    return account.tokenDigest;
  }

  /** The Auth Token callbacks are signed with: the subaccount's when given, else the main account's. */
  async signingToken(
    accountId: string,
    subaccountId?: string,
  ): Promise<{ authId: string; authToken: string }> {
    const authId = subaccountId ?? accountId;
    const account = await this.repository.ofAccount(accountId, authId);
    if (!account) throw CodedError.notFound(`account ${authId} not found`);
    return { authId, authToken: this.credentials.decrypt(authId, account.tokenEncrypted) };
  }

  /** A main account's subaccount, for acting on its behalf (`subaccount` parameter). */
  async requireSubaccount(accountId: string, subaccountId: string): Promise<Account> {
    const sub = await this.lookup(subaccountId, { bounded: false });
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
    this.missing.invalidate(fields._id); // a miss remembered before it existed
    return { authId: fields._id, authToken: token, account };
  }

  /**
   * The account, or null; found and not found are cached alike. Malformed ids name no account.
   * `bounded` (by default): for a request not yet authenticated, which may name any Auth ID, made up:
   * its store read waits its turn among such reads. The authenticated ones (a key's account, a console
   * session's, a principal's subaccount) do not wait with them.
   */
  private async lookup(
    authId: string,
    { bounded = true }: { bounded?: boolean } = {},
  ): Promise<Account | null> {
    if (!AUTH_ID.test(authId)) return null;
    if (this.missing.peek(authId) === null) return null;
    const load = () =>
      this.found.get(
        authId,
        () => this.repository.findForAuthentication(authId),
        (a) => (a ? this.config.AUTH_CACHE_TTL_MS : 0),
      );
    // Not cached, for a request not yet authenticated: its turn first, then the cache's load (shared
    // as the cache shares it: never with a request still waiting, nor begun before a rotation).
    const account = bounded
      ? await this.lookups.load(this.found.peek(authId) !== undefined, load)
      : await load();
    if (!account) await this.missing.get(authId, async () => null);
    return account;
  }
}

function principalOf(account: Account): Principal {
  if (!account.enabled)
    throw new CodedError(ErrorCodes.AUTH_FAILED, 'authentication failed: account is disabled');
  return {
    authId: account._id,
    accountId: account.accountId,
    kind: account.kind,
    subaccountId: account.kind === 'sub' ? account._id : undefined,
  };
}
