import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, ErrorCodes, ReleaseAllocation, ReleaseSessionPins } from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { PeriodicTask } from '@maskline/service-kit';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { WRITE_CALL } from '../config/write-call';
import { ExpiryScheduler } from '../expiry/expiry-scheduler';
import { ProxySessionNameRepository } from '../proxy-sessions/proxy-session-name.repository';
import { ProxyStickyNumbers } from '../proxy-sessions/proxy-sticky-numbers';
import { SessionRepository } from '../sessions/session.repository';
import { SessionWriteTurns } from '../sessions/session-write-turns';
import type { SessionDocument } from '../sessions/session.schema';
import {
  SessionAnnouncer,
  hasNumber,
  withinDuplicateWindow,
  type NumberedSession,
} from '../sessions/session-announcer';
import { AllocationFates } from './allocation-fates.repository';
import { CreationVerdicts, verdictKnown } from './creation-verdicts';
import type { SagaStepDocument } from './saga-step.schema';
import { SagaStepsRepository } from './saga-steps.repository';

/** Steps a pass reads at most. */
const STEPS_PER_PASS = 200;

/**
 * Finds reservations that a creation made and never finished (the process died mid-saga) and gives
 * them back: a number allocation that is not its session's, PINs of a session that was never
 * stored, a session stored and never announced (`settle`). Runs on every replica; every release is
 * idempotent.
 */
@Injectable()
export class OrphanReaper extends PeriodicTask {
  private readonly reclaimed;
  /** Where the next pass starts (`runOnce`). */
  private after = new Date(0);

  constructor(
    private readonly steps: SagaStepsRepository,
    private readonly sessions: SessionRepository,
    private readonly fates: AllocationFates,
    private readonly verdicts: CreationVerdicts,
    private readonly announcer: SessionAnnouncer,
    private readonly expiry: ExpiryScheduler,
    private readonly rpc: RpcClient,
    private readonly writeTurns: SessionWriteTurns,
    private readonly sticky: ProxyStickyNumbers,
    private readonly names: ProxySessionNameRepository,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
    @Inject(LOGGER) logger: Logger,
    metrics: MetricsService,
  ) {
    super('orphan reaper', config.REAPER_INTERVAL_MS, logger);
    this.reclaimed = metrics.counter(
      'maskline_session_orphans_reclaimed_total',
      'Orphaned reservations given back',
      ['kind'],
    );
  }

  protected async runOnce(): Promise<void> {
    const now = Date.now();
    const steps = await this.steps.olderThanSystemWide(
      new Date(now - this.config.ORPHAN_AGE_MS),
      STEPS_PER_PASS,
      this.after,
    );
    // The next pass goes on after these, back to the oldest once a pass reads to the end: steps that
    // stay unsettled (a service away) hold up no others, however many there are.
    this.after = steps.length < STEPS_PER_PASS ? new Date(0) : steps[steps.length - 1].createdAt;
    for (const step of steps) {
      // One step that cannot be dealt with now (a service, the store or NATS away) holds up no other.
      await this.reap(step).catch((err: unknown) =>
        this.logger.warn(
          { err, sessionId: step.sessionId },
          'an orphaned saga step is left for the next pass',
        ),
      );
    }
  }

  private async reap(step: SagaStepDocument): Promise<void> {
    const session = await this.sessionOf(step);
    const scope = { accountId: step.accountId };
    let reapable = false;
    if (step.kind === 'allocation' && session?.allocationId !== step.ref) {
      const fate = session?.proxy ? await this.proxyAllocationFate(session, step) : 'release';
      // Its session may still come to show it: the step stays for the next pass.
      if (fate === 'later') return;
      reapable = fate === 'release';
    }
    if (reapable) {
      await this.rpc.request(ReleaseAllocation, { scope, allocationId: step.ref }, WRITE_CALL);
      this.reclaimed.inc({ kind: 'allocation' });
      this.logger.info({ sessionId: step.sessionId }, 'released an orphaned number allocation');
    }
    if (step.kind === 'allocation' && session && isProxyFirstJoinLeftBehind(session, step)) {
      if (!step.forCreate) await this.announceFirstJoin(step);
      // A create's, which failed (or died) with its owner answered an error: the session ends, as
      // the create's answer said (its discard failed too). Not now: the step stays for the next pass.
      else if (!(await this.endFailedCreate(step, session))) return;
    }
    if (step.kind === 'allocation' && step.takesVerdict && session && isCreationsLiveSession(session, step)) {
      if (!(await this.settle(step, session))) return;
    }
    if (step.kind === 'pins' && !session) {
      await this.rpc.request(ReleaseSessionPins, { scope, sessionId: step.ref }, WRITE_CALL);
      this.reclaimed.inc({ kind: 'pins' });
      this.logger.info({ sessionId: step.sessionId }, 'released orphaned PINs');
    }
    await this.steps.forgetSystemWide(step._id);
  }

  /**
   * A first participant whose write landed though its add could not tell (its answer lost, then the
   * look after it): the add kept its place and its number, and never announced the session (nor
   * remembered the participant's number as its sticky one). Announced here, under the message id an
   * announcement by the add would have had (a repeat within the stream's duplicate window is
   * dropped; past it, not announced twice: logged). By the step's time: at or before any
   * announcement the add made, and never moved after. Read again just before: a session ended since
   * the pass read it is not announced as live (a router started after its end would route it).
   */
  private async announceFirstJoin(step: SagaStepDocument): Promise<void> {
    if (!withinDuplicateWindow(step.createdAt)) {
      this.logger.warn(
        { sessionId: step.sessionId },
        'a Proxy session whose first participant joined without an answer is too old to announce again',
      );
      return;
    }
    const stored = await this.sessions.getLiveSystemWide(step.sessionId);
    if (!stored || !isProxyFirstJoinLeftBehind(stored, step)) return;
    await this.announcer.created(stored, stored.modifiedAt);
    if (stored.proxy && stored.firstParty) {
      await this.sticky
        .remember(stored.accountId, stored.proxy.serviceSid, stored.firstParty, stored.virtualNumber)
        .catch((err: unknown) => this.logger.warn({ err }, 'could not remember a sticky proxy number'));
    }
  }

  /**
   * A stored session whose creation left its number's step behind: the creation either announced it
   * and then could not forget its steps (the session lives, and its owner has it), or stopped before
   * announcing it (its process died, or its store write landed after it had failed), so its owner
   * was answered with an error. Its verdict tells which, taken here as `failed` unless the creation
   * (or a retry of it) took `announced` first: a failed one is ended, giving back its number and
   * PINs, as its creation's answer said; an announced one is announced again (a creation that died
   * between its verdict and its announcement). True when it is settled (its step may go).
   */
  private async settle(step: SagaStepDocument, session: NumberedSession): Promise<boolean> {
    if (!verdictKnown(step.createdAt)) {
      this.logger.warn(
        { sessionId: session._id },
        'a session whose creation left steps behind is too old to tell whether it was created; it ends at its time',
      );
      return true;
    }
    const { verdict } = await this.verdicts.decide(session._id, 'failed');
    if (verdict === 'announced') {
      // The creation (or a replay of it) took it, and announced the session, unless it died first:
      // announced again under its message id while the stream drops a repeat.
      if (withinDuplicateWindow(session.createdAt)) await this.announcer.created(session, session.createdAt);
      return true;
    }
    // Not written, the step stays: the next pass finds the verdict taken and tries again.
    return this.endFailedCreation(session.accountId, session._id);
  }

  /**
   * A Proxy Session create's session, left by a create that failed (its discard too) or died, its
   * owner answered an error, holding the number of its first participant's step
   * (`SagaStepDocument.forCreate`): discarded as the create would have: deleted, its UniqueName
   * freed, ended as a failed creation (no callback). In the session's turn, and only while the step is
   * still there: a create still running forgets it in its last turn, before it answers. True when
   * settled (the step may go).
   */
  private async endFailedCreate(step: SagaStepDocument, session: SessionDocument): Promise<boolean> {
    const scope = { accountId: step.accountId };
    return this.writeTurns
      .during(
        step.accountId,
        step.sessionId,
        async () => {
          if (!(await this.steps.stillThere(step._id))) return true;
          // Deleted and its name freed before it ends: once ended, the next pass would find it so
          // and let the step go, whatever of these had failed.
          await this.sessions.markProxyDeleted(scope, step.sessionId, new Date());
          const name = session.proxy?.uniqueName;
          if (name) await this.names.release(step.accountId, session.proxy!.serviceSid, name, step.sessionId);
          return this.endFailedCreation(step.accountId, step.sessionId);
        },
        0,
      )
      .catch((err: unknown) => {
        if (err instanceof CodedError && err.code === ErrorCodes.CONFLICT) return false;
        throw err;
      });
  }

  /**
   * Ends a session whose creation failed: marked so in the write that brings its end to now, before
   * any expiry can move it to the history without the mark (its owner hears no callback of a session
   * it was never given; a replay of a Plivo creation's Idempotency-Key makes a new session). True
   * when settled: ended here, or ended already; false when the mark was not written (tried again).
   */
  private async endFailedCreation(accountId: string, sessionId: string): Promise<boolean> {
    const now = new Date();
    const marked = await this.sessions
      .updateActive({ accountId }, sessionId, { failedCreation: true, expiresAt: now, modifiedAt: now })
      .catch((err: unknown) => {
        this.logger.warn({ err, sessionId }, 'a failed creation’s session not marked; tried again');
        return undefined;
      });
    if (marked === undefined) return false;
    // Not active any more: ended meanwhile (by its creation's own compensation, say).
    if (!marked) return true;
    this.expiry.schedule(sessionId, now);
    this.reclaimed.inc({ kind: 'session' });
    this.logger.info({ sessionId }, 'ending a session stored after its creation had failed');
    return true;
  }

  /**
   * Whether a Proxy session's allocation that the session does not show goes back. Its add may still
   * store it: whichever of the add and the reaper decides first wins (`AllocationFates`). One its add
   * decided to keep and never stored (its write failed without an answer, or its process died) goes
   * back once the session has ended or holds another number, or once its write is fenced (`fenceFirstJoin`: it can
   * then never land); 'later' when the session got its number meanwhile, looked at again next pass.
   */
  private async proxyAllocationFate(
    session: SessionDocument,
    step: SagaStepDocument,
  ): Promise<'release' | 'later'> {
    if (await this.fates.decide(step.accountId, step.ref, 'reaped')) return 'release';
    // Ended, or holding another number: the add's write (only while active and without a number) can no longer land.
    if (session.status !== 'active' || typeof session.virtualNumber === 'string') return 'release';
    // In the session's turn, as the adds write: never beside an add still under way (whose write
    // FerretDB would not order against the fence); its turn taken, looked at again next pass.
    const fenced = await this.writeTurns
      .during(
        step.accountId,
        session._id,
        () =>
          this.sessions.fenceFirstJoin({ accountId: step.accountId }, session._id, session.joinFence ?? null),
        0,
      )
      .catch((err: unknown) => {
        if (err instanceof CodedError && err.code === ErrorCodes.CONFLICT) return false;
        throw err;
      });
    return fenced ? 'release' : 'later';
  }

  /** The step's session, or null when it will never exist (fencing a creation that may still run). */
  private sessionOf(step: SagaStepDocument): Promise<SessionDocument | null> {
    return this.sessions.fenceCreationSystemWide({
      sessionId: step.sessionId,
      accountId: step.accountId,
      subaccountId: step.subaccountId,
      allocationId: step.ref,
    });
  }
}

/**
 * The session a Plivo-style creation stored with the number its step names, still live. (A Proxy
 * session is announced with its first participant, by the add that stored its number: not here.)
 */
function isCreationsLiveSession(
  session: SessionDocument,
  step: SagaStepDocument,
): session is NumberedSession {
  return (
    !session.proxy && session.status === 'active' && session.allocationId === step.ref && hasNumber(session)
  );
}

/** A live Proxy session that holds the number its first participant's add left a step for. */
function isProxyFirstJoinLeftBehind(
  session: SessionDocument,
  step: SagaStepDocument,
): session is NumberedSession {
  return (
    !!session.proxy && session.status === 'active' && session.allocationId === step.ref && hasNumber(session)
  );
}
