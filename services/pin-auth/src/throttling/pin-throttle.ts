import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { MetricsService } from '@maskline/observability';
import { PIN_AUTH_CONFIG, type PinAuthConfig } from '../config/pin-auth.config';
import { PinFailureDocument, PinLockoutDocument } from './pin-throttle.schema';

export type LockReason = 'caller' | 'number';
export interface Lock {
  reason: LockReason;
  retryAfterSeconds: number;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Throttling that survives across calls and replicas. State is documents (one per failure, one
 * per lockout), never counters updated in place, so it stays right on a store whose updates are
 * not atomic.
 *
 * - Per caller number: CALLER_MAX_FAILURES wrong PINs inside CALLER_WINDOW_SECONDS lock the caller
 *   out of PIN entry for CALLER_LOCKOUT_SECONDS, doubling with each lockout that day.
 * - Per virtual number: NUMBER_MAX_FAILURES wrong PINs from unknown callers inside
 *   NUMBER_WINDOW_SECONDS (a distributed guess) close PIN entry to unknown callers for
 *   NUMBER_LOCKOUT_SECONDS, doubling likewise. Callers registered in a session are never refused
 *   by this bar, so a spoofed burst cannot lock real users out.
 */
@Injectable()
export class PinThrottle {
  private readonly lockouts;

  constructor(
    @InjectModel(PinFailureDocument.name) private readonly failures: Model<PinFailureDocument>,
    @InjectModel(PinLockoutDocument.name) private readonly locks: Model<PinLockoutDocument>,
    @Inject(PIN_AUTH_CONFIG) private readonly config: PinAuthConfig,
    metrics: MetricsService,
  ) {
    this.lockouts = metrics.counter('maskline_pin_lockouts_total', 'PIN-entry lockouts started', ['kind']);
  }

  /** The lock that applies to this caller on this number now, if any. */
  async activeLock(
    virtualNumber: string,
    callerNumber: string,
    callerRegistered: boolean,
    now: Date,
  ): Promise<Lock | undefined> {
    const caller = await this.latestUntil('caller', callerNumber, now);
    if (caller) return { reason: 'caller', retryAfterSeconds: secondsUntil(caller, now) };
    if (!callerRegistered) {
      const number = await this.latestUntil('number', virtualNumber, now);
      if (number) return { reason: 'number', retryAfterSeconds: secondsUntil(number, now) };
    }
    return undefined;
  }

  /** Records a wrong PIN and starts any lockout it triggers. */
  async recordFailure(
    f: { virtualNumber: string; callerNumber: string; callerRegistered: boolean; callId: string },
    now: Date,
  ) {
    await this.failures.create({ _id: randomUUID(), ...f, at: now });
    await this.maybeLock(
      'caller',
      f.callerNumber,
      { callerNumber: f.callerNumber },
      this.config.CALLER_MAX_FAILURES,
      this.config.CALLER_WINDOW_SECONDS,
      this.config.CALLER_LOCKOUT_SECONDS,
      now,
    );
    if (!f.callerRegistered) {
      await this.maybeLock(
        'number',
        f.virtualNumber,
        { virtualNumber: f.virtualNumber, callerRegistered: false },
        this.config.NUMBER_MAX_FAILURES,
        this.config.NUMBER_WINDOW_SECONDS,
        this.config.NUMBER_LOCKOUT_SECONDS,
        now,
      );
    }
  }

  async purge(now: Date, limit: number): Promise<number> {
    const horizon = new Date(
      now.getTime() -
        Math.max(DAY_MS, this.config.NUMBER_WINDOW_SECONDS * 1000, this.config.CALLER_WINDOW_SECONDS * 1000),
    );
    const old = await this.failures
      .find({ at: { $lt: horizon } })
      .limit(limit)
      .lean()
      .exec();
    if (old.length > 0) await this.failures.deleteMany({ _id: { $in: old.map((f) => f._id) } }).exec();
    const over = await this.locks
      .find({ until: { $lt: horizon } })
      .limit(limit)
      .lean()
      .exec();
    if (over.length > 0) await this.locks.deleteMany({ _id: { $in: over.map((l) => l._id) } }).exec();
    return old.length + over.length;
  }

  private async maybeLock(
    kind: LockReason,
    key: string,
    filter: Record<string, unknown>,
    maxFailures: number,
    windowSeconds: number,
    baseLockoutSeconds: number,
    now: Date,
  ) {
    const recent = (await this.locks
      .find({ kind, key, from: { $gte: new Date(now.getTime() - DAY_MS) } })
      .lean()
      .exec()) as PinLockoutDocument[];
    const lastEnd = Math.max(0, ...recent.map((l) => l.until.getTime()));
    if (lastEnd > now.getTime()) return;
    // A fresh budget after each lockout: count only failures since the last one ended.
    const since = new Date(Math.max(now.getTime() - windowSeconds * 1000, lastEnd));
    const count = await this.failures.countDocuments({ ...filter, at: { $gte: since } }).exec();
    if (count < maxFailures) return;
    const level = recent.length + 1;
    const seconds = Math.min(baseLockoutSeconds * 2 ** (level - 1), this.config.MAX_LOCKOUT_SECONDS);
    await this.locks.create({
      _id: randomUUID(),
      kind,
      key,
      level,
      from: now,
      until: new Date(now.getTime() + seconds * 1000),
    });
    this.lockouts.inc({ kind });
  }

  private async latestUntil(kind: LockReason, key: string, now: Date): Promise<Date | undefined> {
    const active = (await this.locks
      .find({ kind, key, until: { $gt: now } })
      .lean()
      .exec()) as PinLockoutDocument[];
    if (active.length === 0) return undefined;
    return new Date(Math.max(...active.map((l) => l.until.getTime())));
  }
}

function secondsUntil(until: Date, now: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
}
