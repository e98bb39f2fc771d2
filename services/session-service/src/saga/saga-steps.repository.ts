import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { AccountScope } from '@maskline/contracts';
import { AccountScopedRepository, STATEMENT_BATCH, StatementBatcher } from '@maskline/persistence';
import { SagaStepDocument } from './saga-step.schema';

@Injectable()
export class SagaStepsRepository extends AccountScopedRepository<SagaStepDocument> {
  /** Finished creations whose steps go together: one statement (one scan on FerretDB). */
  private readonly finished: StatementBatcher<AccountScope & { sessionId: string }>;

  constructor(@InjectModel(SagaStepDocument.name) model: Model<SagaStepDocument>) {
    super(model);
    this.finished = new StatementBatcher(
      (items) =>
        this.systemWide.deleteMany({
          $or: items.map(({ accountId, sessionId }) => ({ accountId, sessionId })),
        }),
      STATEMENT_BATCH,
    );
  }

  /** Writes the step down; writing the same step again (a retried attempt) is a no-op. */
  async record(step: Omit<SagaStepDocument, '_id' | 'createdAt'>): Promise<void> {
    // A step recorded already (a retry of the same creation) stays as it was.
    await this.insertUnlessTaken({ ...step, _id: stepIdOf(step), createdAt: new Date() });
  }

  /** One step: its reservation is its session's now, or given back (the session's other steps stay). */
  async forgetStep(scope: AccountScope, step: Pick<SagaStepDocument, 'sessionId' | 'kind' | 'ref'>) {
    await this.deleteEachScoped([{ accountId: scope.accountId, _id: stepIdOf(step) }]);
  }

  /** A finished creation's steps (its reservations are its session's now, or given back). */
  async forgetSession(scope: AccountScope, sessionId: string): Promise<void> {
    await this.finished.run({ accountId: scope.accountId, sessionId });
  }

  /**
   * System-wide, for the orphan reaper: steps of creations that never finished, begun before `at`
   * and after `after`, oldest first, at most `limit` (a pass goes on from where the one before
   * stopped). Served by `{ createdAt }`.
   */
  olderThanSystemWide(at: Date, limit: number, after = new Date(0)): Promise<SagaStepDocument[]> {
    return this.systemWide.find({ createdAt: { $lt: at, $gt: after } }, { limit, sort: { createdAt: 1 } });
  }

  /** System-wide, for the orphan reaper: whether the step is still recorded (not forgotten since it was read). */
  async stillThere(id: string): Promise<boolean> {
    return (await this.systemWide.findById(id)) !== null;
  }

  /** System-wide, for the orphan reaper: a step it has dealt with. */
  forgetSystemWide(id: string): Promise<void> {
    return this.systemWide.deleteById(id);
  }
}

/** A step's id: one per session, kind and reservation (a retried attempt writes the same step). */
function stepIdOf(step: Pick<SagaStepDocument, 'sessionId' | 'kind' | 'ref'>): string {
  return `${step.sessionId}:${step.kind}:${step.ref}`;
}
