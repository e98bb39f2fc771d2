import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AccountScopedRepository } from '@maskline/persistence';
import { LongLivedSessionDocument } from './long-lived-session.schema';
import type { SessionDocument } from './session.schema';

/**
 * How much longer than its session's record a call step may be kept: steps go by the time they were
 * recorded (one range), not with their session (a scan per thousand sessions on FerretDB), and a
 * session's steps were recorded up to its whole life before it ended. Sessions that lived longer
 * than this are spared by id (`LongLivedSessions`). Steps hold no number and no content (a call's
 * or message's times, outcome and length).
 */
export const CALL_STEPS_GRACE_MS = 24 * 3_600_000;

/** When a session ended: its `expiredAt` (the time of its last change for a record without one). */
export function endedAtOf(doc: Pick<SessionDocument, 'expiredAt' | 'modifiedAt'>): Date {
  return doc.expiredAt ?? doc.modifiedAt;
}

/**
 * The ended sessions that lived longer than CALL_STEPS_GRACE_MS, while their records are kept: the
 * only ones whose call steps the range of steps must spare once they are past the grace. The
 * retention sweep reads them here, a collection the size of the long-lived sessions alone, where
 * finding them among the ended sessions was a scan of the whole history (84 s at 108,000 on
 * FerretDB). Written as a session ends, before its record (a session moving is in `sessions` or
 * here), and deleted after its record.
 */
@Injectable()
export class LongLivedSessions extends AccountScopedRepository<LongLivedSessionDocument> {
  constructor(@InjectModel(LongLivedSessionDocument.name) model: Model<LongLivedSessionDocument>) {
    super(model);
  }

  /** Those of `docs` that lived longer than the grace, noted (a second note of one is a no-op). */
  async note(docs: readonly SessionDocument[]): Promise<void> {
    const long = docs.filter(livedLong).map(asNoted);
    if (long.length === 1) await this.insertUnlessTaken(long[0]!);
    else await this.insertManyKeepingFirst(long);
  }

  /**
   * The ids of sessions that began before `createdBefore` and ended at or after `endedFrom` (still
   * kept), at most `limit`. Served by `{ createdAt }`.
   */
  async keptCreatedBeforeSystemWide(createdBefore: Date, endedFrom: Date, limit: number): Promise<string[]> {
    const rows = await this.systemWide.find(
      { createdAt: { $lt: createdBefore }, endedAt: { $gte: endedFrom } },
      { limit },
      ['_id'],
    );
    return rows.map((r) => r._id);
  }

  /** Retention: the notes of sessions that ended before `endedBefore`. Served by `{ endedAt }`. */
  purgeSystemWide(endedBefore: Date): Promise<number> {
    return this.systemWideSweeps.deleteDue({}, 'endedAt', endedBefore);
  }
}

function livedLong(doc: SessionDocument): boolean {
  return endedAtOf(doc).getTime() - doc.createdAt.getTime() > CALL_STEPS_GRACE_MS;
}

function asNoted(doc: SessionDocument): LongLivedSessionDocument {
  return { _id: doc._id, accountId: doc.accountId, createdAt: doc.createdAt, endedAt: endedAtOf(doc) };
}
