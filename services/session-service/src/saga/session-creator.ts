import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  mayHaveHappened,
  AllocateNumber,
  CodedError,
  ErrorCodes,
  idempotencyKeyInProgress,
  PinErrorCodes,
  RegisterSessionPins,
  ReleaseAllocation,
  ReleaseSessionPins,
  type AccountScope,
  type CreateSession,
  type RpcParsedRequestOf,
  type SessionView,
  newSessionId,
} from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { ExpiryScheduler } from '../expiry/expiry-scheduler';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { WRITE_CALL, WRITE_REQUEST_BUDGET_MS } from '../config/write-call';
import { IdempotencyKeys } from '../idempotency/idempotency-keys';
import { ownNumberRefusal } from '../sessions/own-number-refusal';
import { SessionRepository } from '../sessions/session.repository';
import { LiveSessionQuota } from '../sessions/live-session-quota';
import { CreationAllowance } from './creation-allowance';
import {
  SessionAnnouncer,
  announceWithinMs,
  withinDuplicateWindow,
  hasNumber,
  type NumberedSession,
} from '../sessions/session-announcer';
import { SessionViews } from '../sessions/session-views';
import { SAGA_CHECKPOINTS, type SagaCheckpoints } from './saga-checkpoints';
import { SagaStepsRepository } from './saga-steps.repository';
import {
  CreationVerdicts,
  verdictKnown,
  type CreationVerdict,
  type VerdictReservation,
} from './creation-verdicts';

type Request = RpcParsedRequestOf<typeof CreateSession>;

/** A creation slower than this is logged with the time each step took. */
const SLOW_CREATE_MS = 2000;

const PIN_REFUSALS = new Set<string>([PinErrorCodes.CAPACITY, PinErrorCodes.CONFLICT]);

/**
 * Creates a session as a saga across services, leaving nothing behind when it fails:
 * validate → allocate a number (number-pool) → register PINs (pin-auth; when it refuses the
 * number, give it back and ask for another, a bounded number of times) → store → announce.
 * Each reservation is written down first (saga_steps): a failure gives them back at once, and a
 * crash leaves them for the orphan reaper.
 */
@Injectable()
export class SessionCreator {
  private readonly outcomes;

  constructor(
    private readonly rpc: RpcClient,
    private readonly announcer: SessionAnnouncer,
    private readonly sessions: SessionRepository,
    private readonly steps: SagaStepsRepository,
    private readonly verdicts: CreationVerdicts,
    private readonly views: SessionViews,
    private readonly idempotency: IdempotencyKeys,
    private readonly expiry: ExpiryScheduler,
    private readonly quota: LiveSessionQuota,
    private readonly allowance: CreationAllowance,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
    @Inject(SAGA_CHECKPOINTS) private readonly checkpoints: SagaCheckpoints,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.outcomes = metrics.counter('maskline_session_creations_total', 'Session creations by outcome', [
      'outcome',
    ]);
  }

  async create(request: Request, retried = false): Promise<SessionView> {
    checkParties(request);
    let sessionId: string = newSessionId();
    let claimedAt: Date | undefined;
    const timer = new StepTimer();
    if (request.idempotency) {
      const claim = await timer.time(
        'claim-key',
        this.idempotency.claim(request.scope, request.idempotency, sessionId).catch((err: unknown) => {
          // The store did not answer the claim, which may yet be carried out: this creation is over
          // and its session id is fenced, so a retry that finds the claim starts afresh at once
          // (the orphan reaper's tombstone) instead of "in progress" until ORPHAN_AGE_MS.
          if (err instanceof CodedError && err.code === ErrorCodes.DEPENDENCY_UNAVAILABLE) {
            void this.fence(request.scope, sessionId, null);
          }
          throw err;
        }),
      );
      if (claim.kind === 'existing') {
        const existing = await this.sessions.get(request.scope, claim.sessionId);
        // Ended by the orphan reaper (its creation failed after its write landed), or to be.
        let failedLate = existing?.failedCreation === true;
        if (existing && !failedLate && hasNumber(existing)) {
          failedLate = (await this.replayed(existing, claim.claimedAt)) === 'failed';
          if (!failedLate) return this.views.render(existing);
        }
        if (!retried && (failedLate || (!existing && (await this.isDeadCreation(request.scope, claim))))) {
          // The creation that held the key died, or will never store its session (or its session,
          // stored after it failed, was ended for it): start afresh.
          await this.idempotency.forget(request.scope, request.idempotency.key, claim.sessionId);
          return this.create(request, true);
        }
        throw idempotencyKeyInProgress();
      }
      sessionId = claim.sessionId;
      claimedAt = claim.claimedAt;
    }
    const fate = { sessionMayLand: false };
    try {
      const view = await this.runSaga(request, sessionId, timer, fate);
      this.outcomes.inc({ outcome: 'created' });
      if (request.idempotency && claimedAt) {
        // Not waited for: its retries read the store until it is remembered.
        void this.idempotency.finished(request.scope, request.idempotency, { sessionId, claimedAt });
      }
      return view;
    } catch (err) {
      this.outcomes.inc({ outcome: err instanceof CodedError ? err.code : 'error' });
      // The key names this creation while its session may still be stored (a write the store did
      // not answer, not fenced either): a retry under it must find that session, or wait for the
      // verdict on it (ORPHAN_AGE_MS), never make a second one beside it.
      if (request.idempotency && !fate.sessionMayLand) {
        await this.idempotency
          .forget(request.scope, request.idempotency.key, sessionId)
          .catch((forgetErr: unknown) =>
            // The creation's own failure is the answer; the key left is judged as a dead creation's.
            this.logger.warn(
              { err: forgetErr, sessionId },
              'Idempotency-Key of a failed creation not freed; a retry under it finds what the creation left',
            ),
          );
      }
      throw err;
    }
  }

  /**
   * A replay that found its creation's session stored takes the creation's verdict, as the creation
   * would have: 'failed' when the orphan reaper took it for dead first (it ends the session; the
   * replay makes a new one). Otherwise a live session is announced (again) under the creation's
   * message id: when this replay took the verdict, nobody had announced it (its store write landed
   * after its creation had failed, or the creation died after it); when the creation took it, while
   * the stream's duplicate window (counted from the key's claim, which came first) makes a repeat a
   * no-op, so that one whose announcement was lost with its creation gets it. Older than verdicts
   * are kept, the session is answered as it is.
   */
  private async replayed(session: NumberedSession, claimedAt: Date): Promise<CreationVerdict | 'not asked'> {
    if (!verdictKnown(session.createdAt)) return 'not asked';
    const { verdict, taken } = await this.verdicts.decide(session._id, 'announced');
    const now = Date.now();
    const live = session.status === 'active' && session.expiresAt.getTime() > now;
    if (verdict === 'announced' && live && (taken || withinDuplicateWindow(claimedAt, now))) {
      await this.announcer.created(session, session.createdAt);
    }
    return verdict;
  }

  /**
   * `fate.sessionMayLand`: it failed with its session's write unanswered and not fenced, or stored
   * with its verdict unknown.
   */
  private async runSaga(
    request: Request,
    sessionId: string,
    timer: StepTimer,
    fate: { sessionMayLand: boolean },
  ): Promise<SessionView> {
    const { scope, settings } = request;
    const parties = [request.firstParty, request.secondParty].filter((p): p is string => p !== null);
    const held: string[] = [];
    let pinsRegistered = false;
    let stored = false;
    /** The write asked for and not yet answered: if the answer never comes, it may yet be made. */
    let pending:
      | { kind: 'allocation'; allocationId: string }
      | { kind: 'pins' }
      | { kind: 'session' }
      | { kind: 'verdict' }
      | undefined;
    let chosen: { virtualNumber: string; allocationId: string } | undefined;
    // One of the account's creations (`CreationAllowance`: its share of the room for verdicts), then
    // one of its live sessions (`LiveSessionQuota`), before anything is held or written (a refusal
    // costs nothing else): the live session is given back below unless the session is stored, or may be.
    await timer.time('allowance', this.allowance.take(scope));
    await timer.time('quota', this.quota.take(scope));
    let reservation: VerdictReservation | undefined;
    try {
      // Room for the verdict on the session, before anything is held: refused (its memory full), the
      // creation fails with nothing to give back, instead of storing a session nobody can decide.
      reservation = await timer.time('reserve-verdict', this.verdicts.reserve(sessionId));
      const exclude: string[] = [];
      let pins: { first: string; second: string } | undefined;
      for (let attempt = 1; !chosen; attempt++) {
        const allocationId = randomUUID();
        await timer.time(
          'record-allocation-step',
          this.steps.record(stepOf(scope, sessionId, 'allocation', allocationId)),
        );
        pending = { kind: 'allocation', allocationId };
        const allocation = await timer.time(
          'allocate',
          this.rpc
            .request(
              AllocateNumber,
              {
                scope,
                allocationId,
                parties,
                geomatch: settings.geomatch,
                cooloffSeconds: settings.virtualNumberCooloffSeconds,
                excludeNumbers: exclude,
                // Calls always; with message masking the number must text too.
                ...(settings.messageMasking ? { needs: ['voice', 'sms'] as const } : {}),
              },
              WRITE_CALL,
            )
            .catch((err: unknown) => {
              throw ownNumberRefusal(err, (i) =>
                parties[i] === request.firstParty ? 'first_party' : 'second_party',
              );
            }),
        );
        pending = undefined;
        held.push(allocationId);
        this.checkpoints.reached('after-allocation');
        if (!settings.isPinAuthenticationRequired) {
          chosen = { virtualNumber: allocation.virtualNumber, allocationId };
          break;
        }
        try {
          await timer.time(
            'record-pins-step',
            this.steps.record(stepOf(scope, sessionId, 'pins', sessionId)),
          );
          pending = { kind: 'pins' };
          pins = await timer.time(
            'register-pins',
            this.rpc.request(
              RegisterSessionPins,
              {
                scope,
                sessionId,
                virtualNumber: allocation.virtualNumber,
                pins: settings.generatePin
                  ? { mode: 'generated', length: settings.generatePinLength }
                  : {
                      mode: 'supplied',
                      first: request.firstPartyPin as string,
                      second: request.secondPartyPin as string,
                    },
              },
              WRITE_CALL,
            ),
          );
          pending = undefined;
          pinsRegistered = true;
          chosen = { virtualNumber: allocation.virtualNumber, allocationId };
        } catch (err) {
          if (!(err instanceof CodedError) || !PIN_REFUSALS.has(err.code)) throw err;
          // The PIN service refused this number: give it back and ask for another.
          await this.releaseAllocation(scope, allocationId);
          held.pop();
          exclude.push(allocation.virtualNumber);
          if (attempt >= this.config.SESSION_ALLOCATION_ATTEMPTS) throw err;
          this.logger.info(
            { sessionId, code: err.code, attempt },
            'PIN service refused the number; trying another',
          );
        }
      }
      this.checkpoints.reached('after-pins');
      this.checkpoints.reached('before-store');

      const now = new Date();
      const doc = {
        _id: sessionId,
        accountId: scope.accountId,
        subaccountId: scope.subaccountId ?? null,
        firstParty: request.firstParty,
        secondParty: request.secondParty,
        virtualNumber: chosen.virtualNumber,
        allocationId: chosen.allocationId,
        status: 'active' as const,
        settings,
        createdAt: now,
        modifiedAt: now,
        expiresAt: new Date(now.getTime() + settings.sessionExpirySeconds * 1000),
        durationSeconds: settings.sessionExpirySeconds,
        expiredAt: null,
      };
      pending = { kind: 'session' };
      const inserted = await timer.time('store', this.sessions.insert(doc));
      pending = undefined;
      // The orphan reaper judged this creation dead and gave back what it held: it must not live.
      if (!inserted) throw abandoned();
      stored = true;
      this.expiry.schedule(sessionId, doc.expiresAt);
      this.checkpoints.reached('after-store');
      pending = { kind: 'verdict' };
      const { verdict } = await timer.time('verdict', this.verdicts.decide(sessionId, 'announced'));
      pending = undefined;
      // The orphan reaper took this creation for dead and ends its session: it must not be answered.
      if (verdict === 'failed') throw abandoned();
      this.checkpoints.reached('after-verdict');
      await timer.time(
        'announce',
        this.announcer.created(
          doc,
          now,
          announceWithinMs(WRITE_REQUEST_BUDGET_MS - timer.totalMs(), this.config.RPC_TIMEOUT_MS),
        ),
      );
      this.checkpoints.reached('after-announce');
      // Announced: the session exists for everyone now and is never taken back. Leftover steps are
      // the orphan reaper's (it only forgets those of a session that holds what they name).
      await timer
        .time('forget-steps', this.steps.forgetSession(scope, sessionId))
        .catch((err: unknown) =>
          this.logger.warn({ err, sessionId }, 'saga steps left behind; the orphan reaper forgets them'),
        );
      return this.views.render(doc, { pins, events: [] }); // a session just made has had no calls
    } catch (err) {
      // No answer, or a failure part-way: the reservation may be made (or half made). It is given
      // back like the others (releases are idempotent; a late one is refused by number-pool).
      if (pending?.kind === 'verdict') {
        // The verdict not known: a replay under the key may have taken it and answered with the
        // session, or the reaper may take it. Ended here, that answer would be undone: the session
        // and its steps are left to the reaper's verdict, and the key to find it.
        fate.sessionMayLand = true;
        throw err;
      }
      let unconfirmed = pending !== undefined && mayHaveHappened(err);
      if (unconfirmed && pending?.kind === 'allocation') held.push(pending.allocationId);
      if (unconfirmed && pending?.kind === 'session') {
        // The store did not answer the session's write, and it may still carry it out (a command
        // past its deadline, a dropped connection). Nothing is given back while the session may yet
        // appear holding it: its id is fenced first, as the orphan reaper would.
        const fenced = await this.fence(scope, sessionId, chosen?.allocationId ?? null);
        if (fenced === 'unknown') {
          fate.sessionMayLand = true;
          throw err; // the steps stay: the orphan reaper fences and gives back
        }
        if (fenced === 'stored') stored = true; // it landed after all: it ends as every session ends
        unconfirmed = false;
      }
      // Never stored: not one of the account's live sessions (stored, its end gives it back), and no
      // verdict on it is ever asked for.
      if (!stored) {
        await this.quota.giveBack(scope, 'creation failed');
        if (reservation) await this.verdicts.withdraw(reservation);
      }
      await this.compensate(scope, sessionId, {
        held,
        pinsRegistered: pinsRegistered || (unconfirmed && pending?.kind === 'pins'),
        stored,
        unconfirmed,
      });
      throw err;
    } finally {
      if (timer.totalMs() >= SLOW_CREATE_MS) {
        this.logger.warn(
          { sessionId, totalMs: timer.totalMs(), steps: timer.steps },
          'slow session creation',
        );
      }
    }
  }

  /**
   * Whether the creation that claimed an Idempotency-Key will never store its session: the orphan
   * reaper abandoned it, or the claim is older than ORPHAN_AGE_MS (when the orphan reaper, too,
   * judges a creation dead) and its id is fenced now. A creation still running then fails at its
   * store write and gives back what it holds; its failure does not free the retry's new claim. The
   * second covers a creation that left no saga step for the reaper to find (its process died right
   * after the claim, or the claim was a store write carried out after the creation had failed), and
   * one whose session write and fence both went unanswered (its key kept). Without it the key would
   * answer "in progress" until it is purged.
   */
  private async isDeadCreation(
    scope: AccountScope,
    claim: { sessionId: string; claimedAt: Date },
  ): Promise<boolean> {
    if (await this.sessions.isAbandonedSystemWide(claim.sessionId)) return true;
    if (Date.now() - claim.claimedAt.getTime() < this.config.ORPHAN_AGE_MS) return false;
    return (await this.fence(scope, claim.sessionId, null)) === 'fenced';
  }

  /**
   * Takes the session id with a tombstone so that a session write still on its way can never land:
   * 'fenced' (it never will), 'stored' (it landed first), or 'unknown' (the store did not answer
   * this either).
   */
  private async fence(
    scope: AccountScope,
    sessionId: string,
    allocationId: string | null,
  ): Promise<'fenced' | 'stored' | 'unknown'> {
    try {
      const stored = await this.sessions.fenceCreationSystemWide({
        sessionId,
        accountId: scope.accountId,
        subaccountId: scope.subaccountId ?? null,
        allocationId,
      });
      return stored ? 'stored' : 'fenced';
    } catch (err) {
      this.logger.warn(
        { err, sessionId },
        'could not fence an unanswered session write; the orphan reaper will',
      );
      return 'unknown';
    }
  }

  /** Gives back what the saga reserved. What cannot be given back now, the orphan reaper will. */
  private async compensate(
    scope: AccountScope,
    sessionId: string,
    done: { held: string[]; pinsRegistered: boolean; stored: boolean; unconfirmed: boolean },
  ) {
    const { held, pinsRegistered, stored, unconfirmed } = done;
    if (stored) {
      // Stored, and the announcement failed: it may have reached the stream all the same (a
      // timeout), so routers may know the session. It is ended as every session ends, now: the
      // expiry releases its number and PINs and announces the end, and is retried until it has,
      // whatever expiry the store still holds.
      await this.expiry.endNow(scope, sessionId);
      return;
    }
    try {
      if (pinsRegistered) await this.rpc.request(ReleaseSessionPins, { scope, sessionId }, WRITE_CALL);
      for (const allocationId of held) await this.releaseAllocation(scope, allocationId);
      // A reservation that timed out may still be made after this: its step stays for the orphan
      // reaper, which gives back whatever the step names once it is old enough to be settled.
      if (!unconfirmed) await this.steps.forgetSession(scope, sessionId);
    } catch (err) {
      this.logger.warn({ err, sessionId }, 'compensation incomplete; the orphan reaper will finish it');
    }
  }

  private async releaseAllocation(scope: AccountScope, allocationId: string) {
    await this.rpc.request(ReleaseAllocation, { scope, allocationId }, WRITE_CALL);
  }
}

/** Where a saga's time went: each step's duration, in the order the steps ran. */
class StepTimer {
  readonly steps: { step: string; ms: number }[] = [];
  private readonly start = performance.now();

  async time<T>(step: string, work: Promise<T>): Promise<T> {
    const began = performance.now();
    try {
      return await work;
    } finally {
      this.steps.push({ step, ms: Math.round(performance.now() - began) });
    }
  }

  totalMs(): number {
    return Math.round(performance.now() - this.start);
  }
}

function stepOf(scope: AccountScope, sessionId: string, kind: 'allocation' | 'pins', ref: string) {
  const subaccountId = scope.subaccountId ?? null;
  return { sessionId, accountId: scope.accountId, subaccountId, kind, ref, takesVerdict: true };
}

/** The orphan reaper took this creation for dead: fenced its session id, or took its verdict. */
function abandoned(): CodedError {
  return new CodedError(ErrorCodes.ABANDONED, 'the session could not be created in time; try again', {
    retryable: true,
  });
}

function checkParties(request: Request): void {
  const { firstParty, secondParty, settings } = request;
  if (!settings.createSessionWithSingleParty) {
    if (!firstParty) throw CodedError.validation('first_party', 'first_party is required');
    if (!secondParty) throw CodedError.validation('second_party', 'second_party is required');
  } else if (!firstParty && !secondParty) {
    throw CodedError.validation('first_party', 'a single-party session needs first_party or second_party');
  }
  if (firstParty && firstParty === secondParty) {
    throw CodedError.validation('second_party', 'first_party and second_party must be different numbers');
  }
  if (settings.isPinAuthenticationRequired && !settings.generatePin) {
    if (!request.firstPartyPin) {
      throw CodedError.validation(
        'first_party_pin',
        'first_party_pin is required when PIN authentication is on and generate_pin is false',
      );
    }
    if (!request.secondPartyPin) {
      throw CodedError.validation(
        'second_party_pin',
        'second_party_pin is required when PIN authentication is on and generate_pin is false',
      );
    }
    if (request.firstPartyPin === request.secondPartyPin) {
      throw CodedError.validation('second_party_pin', 'first_party_pin and second_party_pin must differ');
    }
  }
}
