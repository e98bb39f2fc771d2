import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import type { Logger } from 'pino';
import { KeyValueStores, isWrongLastSequence, kvEncode, kvToken } from '@maskline/messaging';
import { historySweepQueries } from '@maskline/persistence';
import { LOGGER, MetricsService } from '@maskline/observability';
import { BackgroundWork } from '../background/background-work';
import { PIN_AUTH_CONFIG, type PinAuthConfig } from '../config/pin-auth.config';
import { KvMirror } from '@maskline/messaging';
import { PinFailureDocument, PinLockoutDocument } from './pin-throttle.schema';
import {
  DAY_MS,
  EMPTY_STATE,
  isIdle,
  lockedUntil,
  secondsUntil,
  withFailure,
  withFailures,
  type Failure,
  type Lock,
  type LockReason,
  type ThrottleRule,
  type ThrottleState,
} from './throttle-rules';
import { isQuotaState, spentMore, spentOn, type QuotaState } from './unknown-caller-quota';

export type { Lock, LockReason } from './throttle-rules';

/**
 * Throttle state, one entry per caller number on each holder's numbers (`caller.<account>.<caller>`
 * on the main account's, `caller.<account>.<subaccount>.<caller>` on a subaccount's) and per virtual
 * number in its account (`number.<account>.<number>`); and each holder's count of new unknown callers
 * today (`quota.<account>`, `quota.<account>.<subaccount>`: `QuotaState`).
 */
export const PIN_THROTTLE_BUCKET = 'maskline-pin-throttle';

export interface FailedAttempt {
  accountId: string;
  /** The number's holder within the account (null or absent: the main account). */
  subaccountId?: string | null;
  virtualNumber: string;
  callerNumber: string;
  callerRegistered: boolean;
  callId: string;
}

/** Compare-and-set rounds before a key is reported too busy (each lost round re-reads it). */
const CAS_TRIES = 16;

/**
 * Throttling that holds across calls and replicas, kept in NATS KV (the store records lockouts only).
 *
 * - Per caller number on a holder's numbers (an account's own, or one of its subaccounts'):
 *   CALLER_MAX_FAILURES wrong PINs on them inside CALLER_WINDOW_SECONDS lock the caller out of PIN
 *   entry on them for CALLER_LOCKOUT_SECONDS, doubling with each lockout that day. Never across
 *   holders: a tenant (a subaccount too) signs webhooks for its own numbers with any caller number
 *   it likes, and must not be able to lock a phone out of another tenant's, a sibling's or its main
 *   account's sessions. (An attacker spreading guesses over holders gains nothing: a PIN is tried
 *   only against the called number's sessions, and that number's holder counts them.)
 * - Per virtual number in its account: NUMBER_MAX_FAILURES wrong PINs from unknown callers inside
 *   NUMBER_WINDOW_SECONDS (a distributed guess) close PIN entry to unknown callers for
 *   NUMBER_LOCKOUT_SECONDS, doubling likewise. Callers registered in a session are never refused
 *   by this bar, so a spoofed burst cannot lock real users out.
 *
 * Why spreading guesses over replicas does not buy an attacker more of them:
 * 1. Every replica's failures land in one KV entry per key, replaced whole by compare-and-set on
 *    its revision: a write based on a stale read is refused and redone on the fresh value, so no
 *    failure is lost and none is counted twice, whichever replica saw it. The write that adds the
 *    failure reaching the bar also starts the lockout, in the same value: count and lock cannot
 *    disagree.
 * 2. A wrong PIN is answered only after its failure is in that entry (or, with KV unreachable,
 *    counted on this replica and shared as soon as KV answers: see 4). So an attacker learns
 *    "mismatch" only once the failure counts everywhere.
 * 3. Lock checks read this replica's copy of the bucket (no network), which the bucket's watch
 *    brings up to date: a lock or failure written by another replica may arrive here a few
 *    milliseconds late. What that lag can let through is bounded: each replica counts its own
 *    failures before the shared write returns (they are added to its copy at once, in the same
 *    synchronous step that judged the guess), so one replica judges at most the bar's worth of
 *    guesses on a key by itself; all of them are counted (1), so the lag moves when a lockout is
 *    seen, never whether it happens. A sequential attacker (one call after another) is stopped
 *    at exactly the bar; a burst fired at R replicas at once is stopped after at most R × bar
 *    guesses (the store-backed design before this one judged every guess already in flight).
 * 4. If KV is unreachable, failures stay counted on the replica that saw them (it keeps refusing
 *    on its own count) and are written to KV when it answers again; a replica never forgets one.
 */
@Injectable()
export class PinThrottle implements OnModuleInit, OnApplicationShutdown {
  /** This replica's copy of the throttle bucket. */
  readonly mirror: KvMirror<ThrottleState>;
  /** Failures this replica judged that are not yet in the shared entry, per KV key. */
  private readonly unshared = new Map<string, Failure[]>();
  /** One compare-and-set loop per key at a time on this replica. */
  private readonly sharing = new Map<string, Promise<void>>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  /** New unknown callers this replica counted against a quota key and has not yet written there. */
  private readonly quotaPending = new Map<string, QuotaState>();
  /** UNKNOWN_CALLERS_PER_DAY_MAX, and a subaccount's share of it. */
  private readonly quotaMax: { account: number; subaccount: number };
  private readonly lockouts;
  private readonly overQuota;
  private readonly rules: Record<LockReason, ThrottleRule>;
  private readonly ttlMs: number;

  constructor(
    private readonly kv: KeyValueStores,
    @InjectModel(PinFailureDocument.name) private readonly failures: Model<PinFailureDocument>,
    @InjectModel(PinLockoutDocument.name) private readonly locks: Model<PinLockoutDocument>,
    @Inject(PIN_AUTH_CONFIG) private readonly config: PinAuthConfig,
    private readonly background: BackgroundWork,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.lockouts = metrics.counter('maskline_pin_lockouts_total', 'PIN-entry lockouts started', ['kind']);
    this.overQuota = metrics.counter(
      'maskline_pin_unknown_callers_uncounted_total',
      "Wrong PINs of new unknown callers past their account's UNKNOWN_CALLERS_PER_DAY_MAX: counted on the number's bar alone",
    );
    this.rules = {
      caller: {
        maxFailures: config.CALLER_MAX_FAILURES,
        windowSeconds: config.CALLER_WINDOW_SECONDS,
        lockoutSeconds: config.CALLER_LOCKOUT_SECONDS,
        maxLockoutSeconds: config.MAX_LOCKOUT_SECONDS,
      },
      number: {
        maxFailures: config.NUMBER_MAX_FAILURES,
        windowSeconds: config.NUMBER_WINDOW_SECONDS,
        lockoutSeconds: config.NUMBER_LOCKOUT_SECONDS,
        maxLockoutSeconds: config.MAX_LOCKOUT_SECONDS,
      },
    };
    this.quotaMax = {
      account: config.UNKNOWN_CALLERS_PER_DAY_MAX,
      subaccount: Math.max(
        1,
        Math.floor((config.UNKNOWN_CALLERS_PER_DAY_MAX * config.UNKNOWN_CALLERS_SUBACCOUNT_PERCENT) / 100),
      ),
    };
    // An entry outlives everything it can say: the day of lockout history, the windows, the longest lockout.
    this.ttlMs =
      Math.max(
        DAY_MS,
        config.CALLER_WINDOW_SECONDS * 1000,
        config.NUMBER_WINDOW_SECONDS * 1000,
        config.MAX_LOCKOUT_SECONDS * 1000,
      ) + 3600_000;
    kv.declare(PIN_THROTTLE_BUCKET, { ttlMs: this.ttlMs });
    this.mirror = new KvMirror<ThrottleState>(
      () => this.bucket(),
      {
        what: 'PIN throttle',
        catchUpTimeoutMs: 30_000,
        readFromLeader: (key) => kv.leaderEntry(PIN_THROTTLE_BUCKET, key),
      },
      logger,
    );
  }

  /** Before the replica answers: its copy of the throttle state is complete. */
  async onModuleInit(): Promise<void> {
    await this.mirror.start();
  }

  async onApplicationShutdown(): Promise<void> {
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    // The last failures judged here go to KV before the connection closes.
    await Promise.allSettled(
      [...this.unshared.keys(), ...this.quotaPending.keys()].map((key) => this.share(key)),
    );
    this.mirror.stop();
  }

  /**
   * Makes this replica's copy current for these keys when its watch is not running (a break being
   * repaired): then they are read from KV. Nothing to do, and no I/O, while the watch runs.
   */
  async refresh(
    attempt: Pick<FailedAttempt, 'accountId' | 'subaccountId' | 'virtualNumber' | 'callerNumber'>,
  ): Promise<void> {
    if (this.mirror.ready) return;
    const quotas = this.quotasOf(attempt).map(([key]) => key);
    await Promise.all(
      [callerKey(attempt), numberKey(attempt), ...quotas].map((key) => this.mirror.refresh(key)),
    );
  }

  /**
   * The lock that applies to this caller on this number now, if any: from this replica's copy and
   * the failures it has judged but not yet shared. Synchronous, so that a caller can judge a guess
   * and count it (`recordFailure`) with nothing in between.
   */
  activeLock(attempt: Omit<FailedAttempt, 'callId'>, now: Date): Lock | undefined {
    const at = now.getTime();
    const caller = lockedUntil(this.current(callerKey(attempt)), at);
    if (caller !== undefined) return { reason: 'caller', retryAfterSeconds: secondsUntil(caller, at) };
    if (!attempt.callerRegistered) {
      const number = lockedUntil(this.current(numberKey(attempt)), at);
      if (number !== undefined) return { reason: 'number', retryAfterSeconds: secondsUntil(number, at) };
    }
    return undefined;
  }

  /**
   * Counts a wrong PIN: on this replica at once (before the first await), in the shared entry when
   * the returned promise resolves. Resolves, never rejects: a failure KV could not take stays
   * counted here and is shared later. The store gets its record after the reply.
   */
  recordFailure(f: FailedAttempt, now: Date): Promise<void> {
    const failure: Failure = { at: now.getTime(), id: randomBytes(6).toString('base64url') };
    const keys: string[] = [];
    // A new unknown caller gets an entry of its own while its holder's count for today has room, and
    // spends it (here at once, in KV below). Past it, its failures count on the number's bar alone: a
    // tenant signing its own numbers' webhooks with made-up caller numbers, or anyone calling from
    // spoofed ones, makes no more entries, and locks nobody out by it.
    const newUnknown = !f.callerRegistered && this.isNewCaller(f);
    if (newUnknown && this.quotaSpent(f, failure.at)) {
      this.overQuota.inc();
    } else {
      keys.push(callerKey(f));
      if (newUnknown) {
        for (const [key] of this.quotasOf(f)) {
          this.quotaPending.set(key, spentMore(this.quotaPending.get(key), 1, failure.at));
          // Shared without the reply waiting: this replica's own count already holds it.
          void this.share(key);
        }
      }
    }
    if (!f.callerRegistered) keys.push(numberKey(f));
    for (const key of keys) this.unshared.set(key, [...(this.unshared.get(key) ?? []), failure]);
    // No store record of the failure: nothing read it, and it kept the caller's number in clear for as
    // long as the purge took to reach it (the console's record of PIN entries is pin_attempts, masked).
    return Promise.all(keys.map((key) => this.share(key))).then(() => undefined);
  }

  /**
   * Deletes lockout records past the horizon (the longest window, at least a day), and the failure
   * records an earlier release wrote: all of them in a run where the store takes it, else slices of
   * them (`deleteDue`); a batch of 1,000 a minute fell behind a tenant making wrong PINs faster, and
   * kept every tenant's callers' numbers past their retention. Local copies of idle keys are forgotten too.
   */
  async purge(now: Date): Promise<number> {
    this.forgetIdle(now);
    const horizon = new Date(
      now.getTime() -
        Math.max(DAY_MS, this.config.NUMBER_WINDOW_SECONDS * 1000, this.config.CALLER_WINDOW_SECONDS * 1000),
    );
    // In one statement, or slice by slice where the store refuses one that large (FerretDB binds
    // every matched id): a backlog drains over a few runs. One collection after the other (not two
    // scans at once on FerretDB), each whatever the other does.
    const sweeps = [
      () => historySweepQueries(this.failures).deleteDue({}, 'at', horizon),
      () => historySweepQueries(this.locks).deleteDue({}, 'until', horizon),
    ];
    let deleted = 0;
    let failed: unknown;
    for (const sweep of sweeps) {
      try {
        deleted += await sweep();
      } catch (err) {
        failed ??= err;
      }
    }
    if (failed !== undefined) throw failed;
    return deleted;
  }

  /** Keys whose state no longer matters leave this replica's memory (KV's TTL removes them there). */
  forgetIdle(now: Date): number {
    let forgotten = 0;
    const idle: string[] = [];
    for (const [key, { value }] of this.mirror.values()) {
      if (this.unshared.has(key) || this.quotaPending.has(key)) continue;
      // A quota says nothing once its day is over; a throttle key once `isIdle`.
      if (
        isQuotaKey(key)
          ? spentOn(asQuota(value), now.getTime()) === 0
          : isIdle(value, now.getTime(), this.rules[kindOf(key)])
      )
        idle.push(key);
    }
    for (const key of idle) {
      this.mirror.forget(key);
      forgotten++;
    }
    return forgotten;
  }

  /** This replica's view of a key: the shared state with its own unshared failures added. */
  private current(key: string): ThrottleState {
    const shared = this.mirror.get(key)?.value ?? EMPTY_STATE;
    const mine = this.unshared.get(key);
    return mine ? withFailures(shared, mine, this.rules[kindOf(key)]) : shared;
  }

  /** Writes this replica's unshared failures of `key` into the shared entry (one loop per key at a time). */
  private share(key: string): Promise<void> {
    const running = this.sharing.get(key);
    // A loop under way may have read the list before this failure joined it: run once more after
    // it. With none under way, the write starts now.
    const once = () => (isQuotaKey(key) ? this.shareQuotaOnce(key) : this.shareOnce(key));
    const next = running ? running.then(once) : once();
    this.sharing.set(key, next);
    void next.then(() => {
      if (this.sharing.get(key) === next) this.sharing.delete(key);
    });
    return next;
  }

  private async shareOnce(key: string): Promise<void> {
    const pending = this.unshared.get(key);
    if (!pending || pending.length === 0) return;
    const rule = this.rules[kindOf(key)];
    let batch: Failure[] = [];
    let started: Array<{ level: number; from: number; until: number }> = [];
    try {
      await this.writeByCas(key, (known) => {
        batch = [...pending];
        started = [];
        let state = known ?? EMPTY_STATE;
        for (const failure of batch) {
          const next = withFailure(state, failure, rule);
          state = next.state;
          if (next.started) started.push(next.started);
        }
        return state;
      });
      this.settle(key, batch);
      for (const lockout of started) this.lockoutStarted(key, lockout);
    } catch (err) {
      this.logger.warn(
        { err, key: kindOf(key), unshared: this.unshared.get(key)?.length ?? 0 },
        'PIN failures not yet shared: counted on this replica, shared when KV answers',
      );
      this.retryLater(key);
    }
  }

  /**
   * Writes this replica's unwritten count of new unknown callers into the holder's quota (one loop
   * per key at a time, as `share`). A count of a day the quota has moved past is dropped.
   */
  private async shareQuotaOnce(key: string): Promise<void> {
    let pending: QuotaState | undefined;
    try {
      const written = await this.writeByCas(key, (known) => {
        pending = this.quotaPending.get(key);
        if (!pending) return undefined;
        const shared = asQuota(known);
        if (shared && shared.day > pending.day) {
          this.quotaPending.delete(key);
          return undefined;
        }
        return spentMore(shared, pending.count, pending.day * DAY_MS);
      });
      if (!written || !pending) return;
      // What was written leaves the count (more may have joined meanwhile).
      const now = this.quotaPending.get(key);
      if (now?.day !== pending.day) return;
      if (now.count > pending.count) this.quotaPending.set(key, { ...now, count: now.count - pending.count });
      else this.quotaPending.delete(key);
    } catch (err) {
      this.logger.warn(
        { err, key: 'quota' },
        "unknown callers' count not yet shared: counted on this replica, shared when KV answers",
      );
      this.retryLater(key);
    }
  }

  /**
   * Writes `next` of the key's entry as this replica holds it, by compare-and-set: redone on the
   * entry read afresh when another replica wrote first. What was written; undefined when `next` had
   * nothing to write.
   */
  private async writeByCas<V extends ThrottleState>(
    key: string,
    next: (known: ThrottleState | undefined) => V | undefined,
  ): Promise<V | undefined> {
    const kv = await this.bucket();
    for (let tries = 1; ; tries++) {
      const known = this.mirror.get(key);
      const value = next(known?.value);
      if (value === undefined) return undefined;
      try {
        const revision = known
          ? await kv.update(key, kvEncode(value), known.revision)
          : await kv.create(key, kvEncode(value));
        this.mirror.applyOwnWrite(key, value, revision);
        return value;
      } catch (err) {
        if (!isWrongLastSequence(err) || tries >= CAS_TRIES) throw err;
        // Another replica wrote first (or the entry expired): read it and add ours to that.
        await this.mirror.refresh(key);
      }
    }
  }

  /** Whether no entry of this caller on its holder's numbers is known here: a new one would be made. */
  private isNewCaller(a: Pick<FailedAttempt, 'accountId' | 'subaccountId' | 'callerNumber'>): boolean {
    const key = callerKey(a);
    return !this.mirror.get(key) && !this.unshared.has(key);
  }

  /** The quota keys a holder's new unknown caller counts against, with their bounds. */
  private quotasOf(a: Pick<FailedAttempt, 'accountId' | 'subaccountId'>): Array<[string, number]> {
    const account: [string, number] = [quotaKey(a.accountId), this.quotaMax.account];
    return a.subaccountId
      ? [account, [quotaKey(a.accountId, a.subaccountId), this.quotaMax.subaccount]]
      : [account];
  }

  /** Whether any of the holder's quotas is spent for the day of `at` (shared, and this replica's own). */
  private quotaSpent(a: Pick<FailedAttempt, 'accountId' | 'subaccountId'>, at: number): boolean {
    return this.quotasOf(a).some(
      ([key, max]) =>
        spentOn(asQuota(this.mirror.get(key)?.value), at) + spentOn(this.quotaPending.get(key), at) >= max,
    );
  }

  /** Removes the failures just written from the unshared list (more may have joined meanwhile). */
  private settle(key: string, written: Failure[]): void {
    const done = new Set(written);
    const left = (this.unshared.get(key) ?? []).filter((f) => !done.has(f));
    if (left.length > 0) this.unshared.set(key, left);
    else this.unshared.delete(key);
  }

  private retryLater(key: string): void {
    if (this.retryTimers.has(key)) return;
    const timer = setTimeout(() => {
      this.retryTimers.delete(key);
      void this.share(key);
    }, 1000);
    timer.unref();
    this.retryTimers.set(key, timer);
  }

  private lockoutStarted(key: string, lockout: { level: number; from: number; until: number }): void {
    const kind = kindOf(key);
    this.lockouts.inc({ kind });
    const ids = key.split('.').slice(1).map(fromToken);
    void this.background.run(
      () =>
        this.locks.create({
          _id: randomUUID(),
          kind,
          accountId: ids[0],
          // A subaccount's caller: `caller.<account>.<subaccount>.<caller>`.
          subaccountId: ids.length === 3 ? ids[1] : null,
          key: ids[ids.length - 1],
          level: lockout.level,
          from: new Date(lockout.from),
          until: new Date(lockout.until),
        }),
      { what: 'pin lockout record' },
    );
  }

  private bucket() {
    return this.kv.bucket(PIN_THROTTLE_BUCKET, { ttlMs: this.ttlMs });
  }
}

/** A caller's entry is its number's holder's: see the class comment. */
function callerKey(a: Pick<FailedAttempt, 'accountId' | 'subaccountId' | 'callerNumber'>): string {
  const holder = a.subaccountId ? `${kvToken(a.subaccountId)}.` : '';
  return `caller.${kvToken(a.accountId)}.${holder}${kvToken(a.callerNumber)}`;
}

/** A number's entry is its account's: a number taken over by another account starts with none of its bar. */
function numberKey(a: Pick<FailedAttempt, 'accountId' | 'virtualNumber'>): string {
  return `number.${kvToken(a.accountId)}.${kvToken(a.virtualNumber)}`;
}

/** A holder's count of new unknown callers today: its main account's, or a subaccount's own. */
function quotaKey(accountId: string, subaccountId?: string): string {
  return `quota.${kvToken(accountId)}${subaccountId ? `.${kvToken(subaccountId)}` : ''}`;
}

function isQuotaKey(key: string): boolean {
  return key.startsWith('quota.');
}

/** A quota key's value (they share the bucket, and so this replica's copy, with throttle states). */
function asQuota(value: unknown): QuotaState | undefined {
  return isQuotaState(value) ? value : undefined;
}

function kindOf(key: string): LockReason {
  return key.startsWith('number.') ? 'number' : 'caller';
}

/** The inverse of kvToken. */
function fromToken(token: string): string {
  return token.startsWith('_') ? Buffer.from(token.slice(1), 'base64url').toString() : token;
}
