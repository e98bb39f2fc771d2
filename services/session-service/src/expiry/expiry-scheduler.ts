import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, SessionErrorCodes, type AccountScope } from '@maskline/contracts';
import { LOGGER, msLeftOfRequest } from '@maskline/observability';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { SessionRepository } from '../sessions/session.repository';
import { SessionExpirer, type ExpiryReason } from './session-expirer';

/** Margin past a claim's staleness before looking at a session again. */
const RETRY_MS = 2000;
/**
 * How long an owner's request to end a session (DELETE, a Proxy close) waits for another replica
 * that holds its claim, at most (less when the request has less left, with ANSWER_RESERVE_MS kept
 * for the answer's way back): that replica is ending it (done in moments), or only checking its
 * expiry (it gives the claim back at once, and this one ends it).
 */
const OWNER_END_WAIT_MS = 3000;
/** How often, meanwhile, it looks whether the session has ended or its claim is free. */
const OWNER_END_LOOK_MS = 200;
const ANSWER_RESERVE_MS = 1000;

/** How soon an owner told `endNotSeenInTime` may ask again (Retry-After). */
const END_RETRY_AFTER_SECONDS = 2;

/**
 * An owner's request to end a session that another replica is ending and had not finished within
 * the wait (its holder died, say: the claim is taken over once stale). Asked again, the request
 * waits again; once the session has ended it answers as a second DELETE does ("Session already
 * expired").
 */
export function endNotSeenInTime(): CodedError {
  return new CodedError(
    SessionErrorCodes.END_IN_PROGRESS,
    'the session is being ended by another replica, not finished yet; it will end: ask again to see it ended',
    { retryable: true, details: { retryAfterSeconds: END_RETRY_AFTER_SECONDS } },
  );
}

/**
 * Ends sessions when they expire, exactly once whichever replica gets there (SessionExpirer claims
 * each). Each replica keeps a timer per session due within the horizon (twice EXPIRY_POLL_MS):
 * - the replica that creates or updates a session schedules it at once (`schedule`), so a short
 *   session ends on time;
 * - every EXPIRY_POLL_MS each replica reads from the store the active sessions due within the
 *   horizon (overdue ones included), so nothing is lost to a restart or to the replica that made a
 *   session being gone: such a session ends at most one poll interval late. The same read finds the
 *   sessions an expiry marked ended and stopped before finishing (announcing, moving).
 * When its timer fires a session is read again and ended only if it is still active and due: an
 * update on another replica may have moved its expiry.
 *
 * Polling the store often is what this avoids: on FerretDB every poll is a scan of every session
 * ever stored (two a second per replica was most of the store's idle CPU).
 */
@Injectable()
export class ExpiryScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private poll?: NodeJS.Timeout;
  private scanning?: Promise<void>;
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  /**
   * Sessions this replica ends now whatever their stored expiry says (a creation that failed after
   * its session was stored, whose expiry could not be brought forward in the store): retried until
   * they have ended. Kept in memory: should this replica stop first, such a session ends at its
   * stored expiry.
   */
  private readonly endingNow = new Map<string, ExpiryReason>();
  /**
   * Sessions not to be tried again before a time: another replica holds their claim (until it would
   * be stale), or ending them failed here (backing off). Every scan that still finds such a session
   * live would otherwise try it again, and under load that was most of the expiries' cost.
   */
  private readonly heldOff = new Map<string, { until: number; failures: number }>();
  private stopped = false;

  constructor(
    private readonly sessions: SessionRepository,
    private readonly expirer: SessionExpirer,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private get horizonMs(): number {
    return 2 * this.config.EXPIRY_POLL_MS;
  }

  onApplicationBootstrap(): void {
    this.scanNow();
    this.poll = setInterval(() => this.scanNow(), this.config.EXPIRY_POLL_MS);
    this.poll.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    // What waits in the queue is left to the other replicas and the next start; what runs finishes
    // while NATS and the store are still open.
    this.queue.length = 0;
    this.queued.clear();
    await this.scanning;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** A session this replica stored with this expiry: ended at that time if it is within the horizon. */
  schedule(sessionId: string, expiresAt: Date): void {
    if (this.stopped) return;
    const at = Math.max(expiresAt.getTime(), this.heldOff.get(sessionId)?.until ?? 0);
    const existing = this.timers.get(sessionId);
    if (this.endingNow.has(sessionId)) {
      // Ending now: a later time (its stored expiry, an update's) never puts it off, and a retry
      // beyond the horizon is kept (a scan would not find a session whose stored expiry is far).
      if (existing && existing.at <= at) return;
    } else if (at > Date.now() + this.horizonMs) {
      // Beyond the horizon: a later scan schedules it. Forget an earlier, nearer time.
      this.unschedule(sessionId);
      return;
    }
    if (existing?.at === at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => this.due(sessionId), Math.max(0, at - Date.now()));
    timer.unref();
    this.timers.set(sessionId, { at, timer });
  }

  /**
   * Ends a session now, whatever expiry the store holds for it; retried until it has ended. Its
   * stored expiry is brought forward too (best effort), with the reason, so that should this
   * replica stop first, or another's scan come first, that one ends it for the same reason.
   * `durably`: for a caller acknowledged only once the end survives this replica (an event's
   * consumer): a failed write of the expiry throws, so that it is retried, instead of being logged.
   */
  async endNow(
    scope: AccountScope,
    sessionId: string,
    reason: ExpiryReason = 'timeout',
    options: { durably?: boolean } = {},
  ): Promise<void> {
    if (!this.stopped) {
      this.endingNow.set(sessionId, reason);
      this.schedule(sessionId, new Date());
    }
    // Written when stopping too: then only the other replicas' scans will end it.
    const now = new Date();
    try {
      await this.sessions.updateActive(scope, sessionId, {
        expiresAt: now,
        modifiedAt: now,
        endReason: reason,
      });
    } catch (err) {
      if (options.durably) throw err;
      this.logger.warn({ err, sessionId }, 'could not bring the expiry of a session ending now forward');
    }
  }

  /**
   * Ends a session at its owner's request (DELETE, a Proxy close): here and now when its claim is
   * free. Otherwise another replica holds it (ending it, or only checking an expiry that has since
   * moved): its stored expiry is brought forward (`endNow`), and this waits, looking again every
   * OWNER_END_LOOK_MS, for it to have ended, so that the owner is answered once its end is on the
   * stream (`SessionExpired`; answered before, a stranger could still be put through). True when
   * it has ended by the time this returns; false when the wait ran out (it still ends: `endNow`).
   * `waitMs`: 0 for a caller that ends many sessions one after another (a Service's deletion).
   */
  async expireNow(
    scope: AccountScope,
    sessionId: string,
    options: { waitMs?: number } = {},
  ): Promise<boolean> {
    const waitMs = Math.min(
      options.waitMs ?? OWNER_END_WAIT_MS,
      (msLeftOfRequest() ?? Infinity) - ANSWER_RESERVE_MS,
    );
    const deadline = Date.now() + waitMs;
    const endedNow = async () =>
      (await this.expirer.expireIfDue(sessionId, { now: true, reason: 'api' })).kind === 'ended';
    try {
      if (await endedNow()) return true;
    } catch (err) {
      await this.endNow(scope, sessionId, 'api');
      throw err;
    }
    await this.endNow(scope, sessionId, 'api');
    while (!this.stopped && Date.now() + OWNER_END_LOOK_MS <= deadline) {
      await new Promise((resolve) => setTimeout(resolve, OWNER_END_LOOK_MS));
      // A look that fails is left to the retries `endNow` set going; the next look asks again.
      const ended = await endedNow().catch((err: unknown) => {
        this.logger.warn({ err, sessionId }, 'could not look whether a session ending now has ended');
        return false;
      });
      if (ended) return true;
    }
    return false;
  }

  /**
   * `expireNow` for a request that answers the owner: the session has ended when this returns;
   * otherwise `endNotSeenInTime` (503, retryable), never an answer that it has ended before it has.
   */
  async expireNowForOwner(scope: AccountScope, sessionId: string): Promise<void> {
    if (!(await this.expireNow(scope, sessionId))) throw endNotSeenInTime();
  }

  private unschedule(sessionId: string): void {
    const existing = this.timers.get(sessionId);
    if (existing) clearTimeout(existing.timer);
    this.timers.delete(sessionId);
  }

  private scanNow(): void {
    if (this.scanning || this.stopped) return;
    this.scanning = this.scan().finally(() => (this.scanning = undefined));
  }

  private async scan(): Promise<void> {
    try {
      const due = await this.sessions.dueForExpirySystemWide(new Date(Date.now() + this.horizonMs), 1000);
      // A session ending now has its own timer (or runs): its stored expiry would not move it. One
      // marked ended and not finished (an expiry that stopped part-way) is finished now.
      for (const s of due) this.schedule(s._id, s.status === 'active' ? s.expiresAt : new Date());
      // Held off and past it, yet no longer due: ended elsewhere (or moved later). Forgotten.
      const dueIds = new Set(due.map((s) => s._id));
      for (const [id, { until }] of this.heldOff) {
        if (until < Date.now() && !dueIds.has(id) && !this.timers.has(id) && !this.queued.has(id)) {
          this.heldOff.delete(id);
        }
      }
    } catch (err) {
      this.logger.warn({ err }, 'expiry scan failed; the next one retries');
    }
  }

  private due(sessionId: string): void {
    this.timers.delete(sessionId);
    if (this.stopped || this.queued.has(sessionId)) return;
    this.queued.add(sessionId);
    this.queue.push(sessionId);
    this.drain();
  }

  private drain(): void {
    while (!this.stopped && this.running.size < this.config.EXPIRY_CONCURRENCY && this.queue.length > 0) {
      const sessionId = this.queue.shift() as string;
      const run = this.expireIfDue(sessionId).finally(() => {
        this.queued.delete(sessionId);
        this.running.delete(run);
        this.drain();
      });
      this.running.add(run);
    }
  }

  private async expireIfDue(sessionId: string): Promise<void> {
    try {
      const reason = this.endingNow.get(sessionId);
      const attempt = await this.expirer.expireIfDue(sessionId, { now: reason !== undefined, reason });
      if (attempt.kind === 'ended') {
        this.endingNow.delete(sessionId);
        this.heldOff.delete(sessionId);
      } else if (attempt.kind === 'later') {
        // Told to end now while this look (begun before) found it not due: now, then.
        this.schedule(sessionId, this.endingNow.has(sessionId) ? new Date() : attempt.expiresAt);
      } else {
        // Another replica's claim is fresh: look again once it would be stale (a crashed claimer),
        // not at every scan that still finds the session live meanwhile.
        this.holdOff(sessionId, attempt.untilMs + RETRY_MS, 0);
      }
    } catch (err) {
      this.logger.warn({ err, sessionId }, 'expiry failed; it will be retried');
      // Its claim stays with this replica (the others wait it out): retried here, backing off, within
      // half the claim's lease (past it, any replica may take it over).
      const failures = (this.heldOff.get(sessionId)?.failures ?? 0) + 1;
      const backoffMs = Math.min(RETRY_MS * 2 ** (failures - 1), this.config.EXPIRY_CLAIM_STALE_MS / 2);
      this.holdOff(sessionId, Date.now() + backoffMs, failures);
    }
  }

  private holdOff(sessionId: string, untilMs: number, failures: number): void {
    if (this.stopped) return;
    this.heldOff.set(sessionId, { until: untilMs, failures });
    this.schedule(sessionId, new Date(untilMs));
  }
}
