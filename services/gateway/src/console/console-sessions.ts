import { Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { KeyValueStores, kvDecode, kvEncode } from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { AccountsService } from '../accounts/accounts.service';
import type { Principal } from '../auth/principal';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import {
  credentialStamp,
  csrfTokenOf,
  needsTouch,
  newSessionToken,
  sessionKey,
  verdictOf,
  type ConsoleIdentity,
  type ConsoleSessionLimits,
  type ConsoleSessionRecord,
} from './console-session-rules';

/** Console sessions of every gateway replica: one KV entry per signed-in browser. */
export const CONSOLE_SESSION_BUCKET = 'maskline-console-sessions';

const signedOut = () =>
  new CodedError(ErrorCodes.AUTH_FAILED, 'authentication failed: the console session ended; sign in again');

/**
 * Signs browsers in and out of the console. The session lives in NATS KV under a digest of its
 * token, so any replica can answer and a sign-out ends it everywhere at once. It ends after
 * CONSOLE_IDLE_TIMEOUT_SECONDS without a request, after CONSOLE_SESSION_MAX_HOURS in any case, and
 * when the credentials it was opened with change (a rotated Auth Token, a new operator key).
 */
@Injectable()
export class ConsoleSessions {
  readonly limits: ConsoleSessionLimits;
  private readonly ttlMs: number;
  private readonly operatorStamp: string;

  constructor(
    private readonly kv: KeyValueStores,
    private readonly accounts: AccountsService,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.limits = {
      idleMs: config.CONSOLE_IDLE_TIMEOUT_SECONDS * 1000,
      maxAgeMs: config.CONSOLE_SESSION_MAX_HOURS * 3600_000,
    };
    // The store forgets an entry a little after its idle limit; the limits are enforced here.
    this.ttlMs = this.limits.idleMs + 60_000;
    this.operatorStamp = credentialStamp(`operator:${config.OPERATOR_KEY}`);
    this.kv.declare(CONSOLE_SESSION_BUCKET, { ttlMs: this.ttlMs });
  }

  /** Opens a session for an account's Auth ID and Auth Token; returns the cookie token. */
  async signInAccount(authId: string, token: string): Promise<{ token: string; principal: Principal }> {
    const principal = await this.accounts.authenticate(authId, token);
    const stamp = credentialStamp(await this.accounts.credentialDigest(principal.authId));
    return {
      token: await this.open({
        kind: 'account',
        authId: principal.authId,
        accountId: principal.accountId,
        subaccountId: principal.subaccountId,
        credentialStamp: stamp,
      }),
      principal,
    };
  }

  /** Opens an operator session when `key` is the operator key (compared in constant time). */
  async signInOperator(key: string): Promise<string> {
    const given = credentialStamp(`operator:${key}`);
    if (!timingSafeEqual(Buffer.from(given), Buffer.from(this.operatorStamp)))
      throw new CodedError(ErrorCodes.AUTH_FAILED, 'authentication failed: the operator key is incorrect');
    return this.open({ kind: 'operator', credentialStamp: this.operatorStamp });
  }

  /**
   * The identity behind a cookie, when the session is live and `csrf` is its CSRF token;
   * otherwise a coded authentication failure (the gateway answers 401).
   */
  async identify(token: string, csrf: string | undefined): Promise<ConsoleIdentity> {
    if (!csrf || !sameText(csrf, csrfTokenOf(token)))
      throw new CodedError(
        ErrorCodes.AUTH_FAILED,
        'authentication failed: X-CSRF-Token header is missing or does not match the console session',
      );
    return this.whoIs(token);
  }

  /** The identity behind a cookie (no CSRF check: for reading who is signed in). */
  async whoIs(token: string): Promise<ConsoleIdentity> {
    const bucket = await this.bucket();
    const key = sessionKey(token);
    const entry = await bucket.get(key);
    const record = entry && entry.operation === 'PUT' ? kvDecode<ConsoleSessionRecord>(entry.value) : null;
    if (!record) throw signedOut();
    const now = this.clock();
    if (verdictOf(record, now, this.limits) !== 'live' || !(await this.stillValid(record.identity))) {
      await bucket.delete(key);
      throw signedOut();
    }
    if (needsTouch(record, now)) await bucket.put(key, kvEncode({ ...record, lastSeenAt: now }));
    return record.identity;
  }

  async signOut(token: string): Promise<void> {
    await (await this.bucket()).delete(sessionKey(token));
  }

  private async open(identity: ConsoleIdentity): Promise<string> {
    const token = newSessionToken();
    const now = this.clock();
    const record: ConsoleSessionRecord = { identity, createdAt: now, lastSeenAt: now };
    await (await this.bucket()).put(sessionKey(token), kvEncode(record));
    return token;
  }

  private async stillValid(identity: ConsoleIdentity): Promise<boolean> {
    if (identity.kind === 'operator') return identity.credentialStamp === this.operatorStamp;
    try {
      await this.accounts.principalOf(identity.authId); // exists and is enabled
      const digest = await this.accounts.credentialDigest(identity.authId);
      return credentialStamp(digest) === identity.credentialStamp;
    } catch (err) {
      if (err instanceof CodedError && err.code === ErrorCodes.AUTH_FAILED) return false;
      throw err;
    }
  }

  private bucket() {
    return this.kv.bucket(CONSOLE_SESSION_BUCKET, { ttlMs: this.ttlMs });
  }
}

function sameText(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
