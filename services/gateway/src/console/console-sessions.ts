import { Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { KeyValueStores, isWrongLastSequence, kvDecode, kvEncode } from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { AccountsService } from '../accounts/accounts.service';
import { AccountRateLimiter } from '../auth/account-rate-limiter';
import type { Principal } from '../auth/principal';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import {
  CSRF_HEADER,
  cookieToken,
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
  private readonly stampKey: Buffer;
  private readonly operatorStamp: string;

  constructor(
    private readonly kv: KeyValueStores,
    private readonly accounts: AccountsService,
    private readonly limiter: AccountRateLimiter,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.limits = {
      idleMs: config.CONSOLE_IDLE_TIMEOUT_SECONDS * 1000,
      maxAgeMs: config.CONSOLE_SESSION_MAX_HOURS * 3600_000,
    };
    // The store forgets an entry a little after its idle limit; the limits are enforced here.
    this.ttlMs = this.limits.idleMs + 60_000;
    this.stampKey = config.ACCOUNT_TOKEN_PEPPER;
    this.operatorStamp = credentialStamp(this.stampKey, `operator:${config.OPERATOR_KEY}`);
    this.kv.declare(CONSOLE_SESSION_BUCKET, { ttlMs: this.ttlMs });
  }

  /** Opens a session for an account's Auth ID and Auth Token; returns the cookie token. */
  async signInAccount(authId: string, token: string): Promise<{ token: string; principal: Principal }> {
    // The digest the token was checked against is the one stamped: a rotation in between ends it.
    const { principal, tokenDigest } = await this.accounts.authenticateWithDigest(authId, token);
    return {
      token: await this.open({
        kind: 'account',
        authId: principal.authId,
        accountId: principal.accountId,
        subaccountId: principal.subaccountId,
        credentialStamp: credentialStamp(this.stampKey, tokenDigest),
      }),
      principal,
    };
  }

  /** Opens an operator session when `key` is the operator key (compared in constant time). */
  async signInOperator(key: string): Promise<string> {
    if (!sameText(credentialStamp(this.stampKey, `operator:${key}`), this.operatorStamp))
      throw new CodedError(ErrorCodes.AUTH_FAILED, 'authentication failed: the operator key is incorrect');
    return this.open({ kind: 'operator', credentialStamp: this.operatorStamp });
  }

  /**
   * The console identity a request carries in place of credentials, when it has the session cookie
   * (null when it has none): the session must be live, of `kind`, and the request must carry its
   * CSRF token. Answers made this way are not to be stored by any cache.
   */
  async fromRequest(
    req: Request,
    res: Response,
    kind: ConsoleIdentity['kind'],
  ): Promise<ConsoleIdentity | null> {
    const token = cookieToken(req.header('cookie'), req.secure);
    if (!token) return null;
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Vary', 'Cookie');
    const identity = await this.identify(token, req.header(CSRF_HEADER));
    if (identity.kind !== kind)
      throw new CodedError(
        ErrorCodes.AUTH_FAILED,
        kind === 'operator'
          ? 'authentication failed: sign in with the operator key for this'
          : 'authentication failed: sign in with an account for this',
      );
    return identity;
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
    if (!entry || !record) throw signedOut();
    const now = this.clock();
    if (verdictOf(record, now, this.limits) !== 'live' || !(await this.stillValid(record.identity))) {
      await bucket.delete(key);
      throw signedOut();
    }
    if (needsTouch(record, now)) {
      try {
        // Only over the entry as read: a sign-out (or another replica's end of it) in between stands.
        await bucket.update(key, kvEncode({ ...record, lastSeenAt: now }), entry.revision);
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
        if ((await bucket.get(key))?.operation !== 'PUT') throw signedOut();
      }
    }
    return record.identity;
  }

  async signOut(token: string): Promise<void> {
    await (await this.bucket()).delete(sessionKey(token));
  }

  private async open(identity: ConsoleIdentity): Promise<string> {
    // An identity that proved itself opens sessions at most at the account request rate, across
    // replicas (counted only after the check: a wrong guess writes nothing to KV); a subaccount's
    // count to its main account's, within its share, as its requests do: each subaccount a rate of its
    // own let a main account open sessions (NATS KV keys) as fast as it made subaccounts.
    await this.limiter.take(signInAllowanceOf(identity));
    const token = newSessionToken();
    const now = this.clock();
    const record: ConsoleSessionRecord = { identity, createdAt: now, lastSeenAt: now };
    await (await this.bucket()).put(sessionKey(token), kvEncode(record));
    return token;
  }

  private async stillValid(identity: ConsoleIdentity): Promise<boolean> {
    if (identity.kind === 'operator') return identity.credentialStamp === this.operatorStamp;
    try {
      const digest = await this.accounts.credentialDigest(identity.authId);
      return credentialStamp(this.stampKey, digest) === identity.credentialStamp;
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

/** Whose console sign-in allowance an identity spends: its main account's, and a subaccount's share of it. */
export function signInAllowanceOf(identity: ConsoleIdentity): { accountId: string; subaccountId?: string } {
  if (identity.kind === 'operator') return { accountId: 'console-sign-in.operator' };
  return {
    accountId: `console-sign-in.${identity.accountId}`,
    ...(identity.subaccountId ? { subaccountId: `console-sign-in.${identity.subaccountId}` } : {}),
  };
}
