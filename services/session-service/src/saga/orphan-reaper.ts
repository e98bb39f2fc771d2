import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { ReleaseAllocation, ReleaseSessionPins } from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { PeriodicTask } from '@maskline/service-kit';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { WRITE_CALL } from '../config/write-call';
import { SessionRepository } from '../sessions/session.repository';
import type { SessionDocument } from '../sessions/session.schema';
import type { SagaStepDocument } from './saga-step.schema';
import { SagaStepsRepository } from './saga-steps.repository';
import { AllocationFates } from './allocation-fates.repository';

/**
 * Finds reservations that a creation made and never finished (the process died mid-saga) and gives
 * them back: a number allocation that is not its session's, PINs of a session that was never
 * stored. Runs on every replica; every release is idempotent.
 */
@Injectable()
export class OrphanReaper extends PeriodicTask {
  private readonly reclaimed;

  constructor(
    private readonly steps: SagaStepsRepository,
    private readonly sessions: SessionRepository,
    private readonly fates: AllocationFates,
    private readonly rpc: RpcClient,
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
    for (const step of await this.steps.olderThanSystemWide(new Date(now - this.config.ORPHAN_AGE_MS), 200)) {
      const session = await this.sessionOf(step);
      const scope = { accountId: step.accountId };
      // A Proxy session's add may still store the allocation: whichever decides first wins.
      const reapable =
        step.kind === 'allocation' &&
        session?.allocationId !== step.ref &&
        (!session?.proxy || (await this.fates.decide(step.accountId, step.ref, 'reaped')));
      if (reapable) {
        await this.rpc.request(ReleaseAllocation, { scope, allocationId: step.ref }, WRITE_CALL);
        this.reclaimed.inc({ kind: 'allocation' });
        this.logger.info({ sessionId: step.sessionId }, 'released an orphaned number allocation');
      }
      if (step.kind === 'pins' && !session) {
        await this.rpc.request(ReleaseSessionPins, { scope, sessionId: step.ref }, WRITE_CALL);
        this.reclaimed.inc({ kind: 'pins' });
        this.logger.info({ sessionId: step.sessionId }, 'released orphaned PINs');
      }
      await this.steps.forgetSystemWide(step._id);
    }
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
