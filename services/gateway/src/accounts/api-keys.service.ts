import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { ApiKeyRevoked, CodedError, ErrorCodes, apiKeySidSchema, newTwilioSid } from '@maskline/contracts';
import { constantTimeEqual, randomString } from '@maskline/crypto';
import { EventPublisher, InvalidatedCache, NATS_CONNECTION } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { UnauthenticatedLookups } from '@maskline/resilience';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import type { Principal } from '../auth/principal';
import { AccountCredentials } from './account-credentials';
import { AccountsService } from './accounts.service';
import { ApiKeyRepository } from './api-key.repository';
import type { ApiKey } from './api-key.schema';

const MAX_CACHED = 10_000;
/** API keys one account (or subaccount) may hold at once. */
export const MAX_KEYS_PER_ACCOUNT = 100;

export interface IssuedApiKey {
  key: ApiKey;
  /** Shown once, in the answer that creates the key. */
  secret: string;
}

/**
 * Twilio-shaped API keys: `SK…` and a 32-character secret, each acting as the account (or
 * subaccount) that made it. Revoking one stops it at once on every gateway replica.
 */
@Injectable()
export class ApiKeysService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** Keys found, and SIDs found to name none: cached alike, kept apart (made-up SIDs cannot push real ones out). */
  private readonly found: InvalidatedCache<string, ApiKey | null>;
  private readonly missing: InvalidatedCache<string, null>;
  /** Reads of SIDs not cached (any request may name one, made up): bounded with the process's others. */
  private readonly lookups = new UnauthenticatedLookups('API key SID');
  private readonly decoyDigest: string;

  constructor(
    private readonly repository: ApiKeyRepository,
    private readonly credentials: AccountCredentials,
    private readonly accounts: AccountsService,
    private readonly events: EventPublisher,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const options = { ttlMs: config.AUTH_CACHE_TTL_MS, maxEntries: MAX_CACHED };
    // In fair shares by tenant: one with many keys cannot push other tenants' out.
    this.found = new InvalidatedCache({ ...options, ownerOf: (sid, k) => k?.accountId ?? sid });
    this.missing = new InvalidatedCache(options);
    this.decoyDigest = credentials.digest(newTwilioSid('SK'), randomString(32));
  }

  async onApplicationBootstrap(): Promise<void> {
    await InvalidatedCache.followTogether(
      [this.found, this.missing],
      this.nc,
      ApiKeyRevoked,
      (p) => p.sid,
      (err) => this.logger.warn({ err }, 'API key revocations missed: keys are read afresh'),
    );
  }

  beforeApplicationShutdown(): void {
    this.found.stopFollowing();
    this.missing.stopFollowing();
  }

  /** A new key for the account `authId` of main account `accountId`. */
  async create(accountId: string, authId: string, friendlyName: string): Promise<IssuedApiKey> {
    await this.accounts.get(accountId, authId); // the account must be this tenant's
    // A bound on what one account can make the store keep (keys are not history: they stay until revoked).
    if ((await this.repository.listOf(accountId, authId)).length >= MAX_KEYS_PER_ACCOUNT) {
      throw new CodedError(
        ErrorCodes.CONFLICT,
        `an account has at most ${MAX_KEYS_PER_ACCOUNT} API keys: revoke one before making another`,
      );
    }
    const sid = newTwilioSid('SK');
    const secret = randomString(32);
    const key = await this.repository.insert({
      _id: sid,
      accountId,
      authId,
      friendlyName,
      secretDigest: this.credentials.digest(sid, secret),
    });
    this.missing.invalidate(sid); // a miss remembered before it existed
    return { key, secret };
  }

  /** The keys of the account `authId` (a main account's `authId` undefined: its own and its subaccounts'). */
  list(accountId: string, authId: string | undefined): Promise<ApiKey[]> {
    return this.repository.listOf(accountId, authId);
  }

  /**
   * Revokes a key of the account `authId` (a main account's `authId` undefined: its own or any of
   * its subaccounts'); another account's key is not found.
   */
  async revoke(accountId: string, authId: string | undefined, sid: string): Promise<void> {
    if (!apiKeySidSchema.safeParse(sid).success || !(await this.repository.remove(accountId, authId, sid))) {
      throw CodedError.notFound(`API key ${sid} not found`);
    }
    this.found.invalidate(sid);
    try {
      await this.events.publish(
        ApiKeyRevoked,
        { sid, at: new Date().toISOString() },
        { msgId: `api-key-revoked:${sid}` },
      );
    } catch (err) {
      // The key is gone from the store (a retry would find nothing to revoke): this replica refuses
      // it now, the others once their cached copy expires.
      this.logger.warn(
        { err, sid, withinMs: this.config.AUTH_CACHE_TTL_MS },
        'API key revoked but not announced: other gateway replicas refuse it once their cache expires',
      );
    }
  }

  /**
   * Verifies an API key and its secret, in constant time, and answers as the account that made it
   * (which must still be enabled). An unknown SID costs what a wrong secret costs.
   */
  async authenticate(sid: string, secret: string): Promise<Principal> {
    const key = await this.lookup(sid);
    const matches = constantTimeEqual(
      this.credentials.digest(sid, secret),
      key?.secretDigest ?? this.decoyDigest,
    );
    if (!matches || !key) {
      throw new CodedError(
        ErrorCodes.AUTH_FAILED,
        'authentication failed: API key SID or secret is incorrect',
      );
    }
    return this.accounts.principalOf(key.authId);
  }

  /** The key, or null; found and not found are cached alike. Malformed SIDs name no key. */
  private async lookup(sid: string): Promise<ApiKey | null> {
    if (!apiKeySidSchema.safeParse(sid).success) return null;
    if (this.missing.peek(sid) === null) return null;
    const load = () =>
      this.found.get(
        sid,
        () => this.repository.findForAuthentication(sid),
        (k) => (k ? this.config.AUTH_CACHE_TTL_MS : 0),
      );
    // Not cached: a read for a request that may name any SID, made up, waits its turn first.
    const key = await this.lookups.load(this.found.peek(sid) !== undefined, load);
    if (!key) await this.missing.get(sid, async () => null);
    return key;
  }
}
