import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import { AccountScopedRepository, InsertBatcher } from '@maskline/persistence';
import { CallEventDocument } from './call-event.schema';

@Injectable()
export class CallEventRepository extends AccountScopedRepository<CallEventDocument> {
  /**
   * Call steps arrive at the call rate; those within 20 ms of each other are written together (one
   * store command for many steps). Payloads were validated on the way in: plain documents, no
   * hydration.
   */
  private readonly inserts: InsertBatcher<CallEventDocument>;

  constructor(@InjectModel(CallEventDocument.name) model: Model<CallEventDocument>) {
    super(model, { growsWithHistory: true });
    this.inserts = new InsertBatcher<CallEventDocument>(
      async (docs) => (await this.insertManyUnordered(docs)) as mongo.InsertManyResult<CallEventDocument>,
      { maxBatch: 100, maxWaitMs: 20 },
    );
  }

  /** Records the event once; a redelivery is a no-op. */
  async record(event: CallEventDocument): Promise<void> {
    await this.inserts.insert(event);
  }

  async forSession(accountId: string, sessionId: string): Promise<CallEventDocument[]> {
    return this.findScoped({ sessionId, accountId });
  }

  /** The events of several sessions of one account, by session, in one query. */
  async forSessions(accountId: string, sessionIds: string[]): Promise<Map<string, CallEventDocument[]>> {
    const bySession = new Map<string, CallEventDocument[]>();
    if (sessionIds.length === 0) return bySession;
    const events = await this.findScoped({ sessionId: { $in: sessionIds }, accountId });
    for (const e of events) {
      const list = bySession.get(e.sessionId);
      if (list) list.push(e);
      else bySession.set(e.sessionId, [e]);
    }
    return bySession;
  }

  /** One interaction's events (a call's steps, or a message's outcome), as its session's owner deletes it. */
  async deleteInteraction(accountId: string, sessionId: string, callId: string): Promise<void> {
    await this.deleteScoped({ accountId, sessionId, callId });
  }

  /**
   * The retention sweep: every step recorded before `before` but those of the sessions in `keep`
   * (still live, or kept), as one range: one scan on FerretDB, however many sessions they belong to,
   * where a cascade by session id costs a scan per thousand ids (`deleteForSessionsSystemWide`).
   * Slices when the store refuses one that large. Served by `{ at }`.
   */
  deleteRecordedBeforeSystemWide(before: Date, keep: readonly string[]): Promise<number> {
    return this.systemWideSweeps.deleteDue(
      keep.length > 0 ? { sessionId: { $nin: [...keep] } } : {},
      'at',
      before,
    );
  }

  /**
   * The retention sweep: the steps of sessions being deleted, in one statement, or a range of them
   * at a time when the store refuses one that large (a long Proxy session's messages are many steps;
   * one statement may match only so many on FerretDB). Served by `{ sessionId, at }`.
   */
  async deleteForSessionsSystemWide(sessionIds: readonly string[]): Promise<number> {
    if (sessionIds.length === 0) return 0;
    return this.systemWideSweeps.deleteAll({ sessionId: { $in: [...sessionIds] } }, 'at', {
      maxSlices: 1000,
    });
  }
}
