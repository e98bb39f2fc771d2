import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { FilterQuery, Model, UpdateQuery } from 'mongoose';
import type { AccountScope } from '@maskline/contracts';
import { AccountScopedRepository } from '@maskline/persistence';
import { PartyRedaction } from '../privacy/party-redaction';
import { ENDED_SESSION_MODEL, type SessionDocument } from './session.schema';

/**
 * The history: sessions that ended, as they were when they ended (then redacted, then deleted by
 * the retention sweep). Written once per session by the expiry and read only by the API and the
 * sweeps; no hot path touches it, so its growth slows nothing a caller waits for.
 */
@Injectable()
export class EndedSessionRepository extends AccountScopedRepository<SessionDocument> {
  constructor(
    @InjectModel(ENDED_SESSION_MODEL) model: Model<SessionDocument>,
    private readonly redaction: PartyRedaction,
  ) {
    super(model);
  }

  /** An ended session visible to this scope. */
  get(scope: AccountScope & Partial<SessionDocument>, sessionId: string): Promise<SessionDocument | null> {
    return this.findByIdScoped(scope, sessionId);
  }

  /** The first `limit` matches in the list order, and how many there are. */
  async firstPage(filter: FilterQuery<SessionDocument> & { accountId: string }, limit: number) {
    const [objects, total] = await Promise.all([
      this.findScoped(filter, { limit, offset: 0, sort: { createdAt: -1, _id: 1 } }),
      this.countScoped(filter),
    ]);
    return { objects, total };
  }

  /**
   * Records ended sessions (the expiry's move; the sweep's catch-up of ended ones left in `sessions`).
   * Idempotent: a session already recorded keeps its first record.
   */
  record(docs: SessionDocument[]): Promise<void> {
    return this.insertManyKeepingFirst(docs.map((d) => this.withDigests(d)));
  }

  /** One expiry's record, written with those of the expiries running with it; a second is a no-op. */
  async recordOne(doc: SessionDocument): Promise<void> {
    await this.insertUnlessTaken(this.withDigests(doc));
  }

  /** A record as the history keeps it: with the digests its redaction will put in the numbers' place. */
  private withDigests(doc: SessionDocument): SessionDocument {
    return {
      ...doc,
      firstPartyDigest: this.redaction.digestOf(doc.accountId, doc.firstParty),
      secondPartyDigest: this.redaction.digestOf(doc.accountId, doc.secondParty),
      digestKeyId: this.redaction.keyId,
    };
  }

  /** A Proxy session deleted through its API after it ended: it leaves the Service's list. */
  async markProxyDeleted(scope: AccountScope, sessionId: string, at: Date): Promise<void> {
    await this.updateOneScoped({ _id: sessionId, accountId: scope.accountId }, {
      $set: { 'proxy.deletedAt': at },
    } as UpdateQuery<SessionDocument>);
  }

  getByIdSystemWide(sessionId: string): Promise<SessionDocument | null> {
    return this.systemWide.findById(sessionId);
  }

  /**
   * The redaction sweep, in one statement however many are due (on FerretDB: one scan to find them,
   * then a write each by `_id`): in each session that ended before `endedBefore` with its numbers in
   * clear, the digests recorded with it under the current key take the numbers' place. Served by
   * `{ expiredAt }`. The rest (written by an earlier version, or under an earlier key) are
   * `…WithoutCurrentDigests`'.
   */
  redactDueSystemWide(endedBefore: Date, exceptAccounts: readonly string[], at: Date): Promise<number> {
    return this.systemWideSweeps.updateMany(
      { ...this.unredactedBefore(endedBefore, exceptAccounts), digestKeyId: this.redaction.keyId },
      {
        $rename: { firstPartyDigest: 'firstParty', secondPartyDigest: 'secondParty' },
        $set: { redactedAt: at },
        $unset: { digestKeyId: '' },
      },
    );
  }

  /**
   * The redaction sweep's catch-up, served by `{ expiredAt }`: records still in clear without digests
   * under the current key (an earlier version wrote them, or the key has changed since).
   */
  unredactedWithoutCurrentDigestsSystemWide(
    endedBefore: Date,
    exceptAccounts: readonly string[],
    limit: number,
  ): Promise<SessionDocument[]> {
    return this.systemWideSweeps.find(
      { ...this.unredactedBefore(endedBefore, exceptAccounts), digestKeyId: { $ne: this.redaction.keyId } },
      { limit },
    );
  }

  /** The catch-up's write: the parties' digests in place of their numbers, and no digest of another key. */
  redactSystemWide(
    sessionId: string,
    set: Pick<SessionDocument, 'firstParty' | 'secondParty' | 'redactedAt'>,
  ): Promise<void> {
    return this.systemWideSweeps.updateById(sessionId, {
      $set: set,
      $unset: { firstPartyDigest: '', secondPartyDigest: '', digestKeyId: '' },
    });
  }

  /** Ended before `endedBefore`, numbers in clear, and not of an account that keeps them. */
  private unredactedBefore(
    endedBefore: Date,
    exceptAccounts: readonly string[],
  ): FilterQuery<SessionDocument> {
    return {
      expiredAt: { $ne: null, $lte: endedBefore },
      redactedAt: null,
      ...(exceptAccounts.length > 0 ? { accountId: { $nin: [...exceptAccounts] } } : {}),
    };
  }

  /** The retention sweep: sessions that ended before `endedBefore`, their ids alone. */
  async endedBeforeSystemWide(endedBefore: Date, limit: number): Promise<string[]> {
    const rows = await this.systemWideSweeps.find(
      { expiredAt: { $ne: null, $lte: endedBefore } },
      { limit },
      ['_id'],
    );
    return rows.map((r) => r._id);
  }

  deleteSystemWide(sessionIds: readonly string[]): Promise<number> {
    return this.systemWideSweeps.deleteByIds(sessionIds);
  }
}
