import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { FilterQuery, Model, UpdateQuery } from 'mongoose';
import type { AccountScope } from '@maskline/contracts';
import { AccountScopedRepository } from '@maskline/persistence';
import { PartyRedaction } from '../privacy/party-redaction';
import { EndedSessionParties } from './ended-session-parties.repository';
import type { EndedSessionPartiesDocument } from './ended-session-parties.schema';
import { ENDED_SESSION_MODEL, type SessionDocument } from './session.schema';

/**
 * The history: sessions that ended, as they were when they ended, their parties' numbers as digests
 * (the numbers themselves are kept apart, `EndedSessionParties`, until redaction deletes them), then
 * deleted by the retention sweep. Written once per session by the expiry and read only by the API
 * and the sweeps; no hot path touches it, so its growth slows nothing a caller waits for. Every read
 * gives the session as the API shows it: with its numbers while they are kept.
 */
@Injectable()
export class EndedSessionRepository extends AccountScopedRepository<SessionDocument> {
  constructor(
    @InjectModel(ENDED_SESSION_MODEL) model: Model<SessionDocument>,
    private readonly redaction: PartyRedaction,
    private readonly parties: EndedSessionParties,
  ) {
    super(model, { growsWithHistory: true });
  }

  /** An ended session visible to this scope. */
  async get(
    scope: AccountScope & Partial<SessionDocument>,
    sessionId: string,
  ): Promise<SessionDocument | null> {
    const record = await this.findByIdScoped(scope, sessionId);
    return record && withNumbers(record, await this.parties.of(record.accountId, sessionId));
  }

  /**
   * The first `limit` matches in the list order, and how many there are: records as stored (their
   * parties' digests); `shown` gives the ones a page keeps their numbers.
   */
  async firstPage(filter: FilterQuery<SessionDocument> & { accountId: string }, limit: number) {
    const [objects, total] = await Promise.all([
      this.findScoped(filter, { limit, offset: 0, sort: { createdAt: -1, _id: 1 } }),
      this.countScoped(filter),
    ]);
    return { objects, total };
  }

  /** An account's records as shown: with their parties' numbers while they are kept. */
  async shown(accountId: string, records: SessionDocument[]): Promise<SessionDocument[]> {
    const kept = await this.parties.ofMany(
      accountId,
      records.map((r) => r._id),
    );
    return records.map((r) => withNumbers(r, kept.get(r._id) ?? null));
  }

  /**
   * Records ended sessions (the expiry's move; the sweep's catch-up of ended ones left in `sessions`):
   * their numbers first, then the record. Idempotent: a session already recorded keeps its first
   * record, and a retry after a crash between the two writes finishes the second.
   */
  async record(docs: SessionDocument[]): Promise<void> {
    await this.parties.keep(docs.map(partiesOf));
    await this.insertManyKeepingFirst(docs.map((d) => this.asRecorded(d)));
  }

  /** One expiry's record, written with those of the expiries running with it; a second is a no-op. */
  async recordOne(doc: SessionDocument): Promise<void> {
    await this.parties.keepOne(partiesOf(doc));
    await this.insertUnlessTaken(this.asRecorded(doc));
  }

  /**
   * A record as the history keeps it: the parties' digests in their numbers' place from the start
   * (made under the key in force when the session ended), so redaction never has to write it.
   */
  private asRecorded(doc: SessionDocument): SessionDocument {
    return {
      ...doc,
      firstParty: this.redaction.digestOf(doc.accountId, doc.firstParty),
      secondParty: this.redaction.digestOf(doc.accountId, doc.secondParty),
      redactedAt: doc.expiredAt,
    };
  }

  /** A Proxy session deleted through its API after it ended: it leaves the Service's list. */
  async markProxyDeleted(scope: AccountScope, sessionId: string, at: Date): Promise<void> {
    await this.updateOneScoped({ _id: sessionId, accountId: scope.accountId }, {
      $set: { 'proxy.deletedAt': at },
    } as UpdateQuery<SessionDocument>);
  }

  async getByIdSystemWide(sessionId: string): Promise<SessionDocument | null> {
    const record = await this.systemWide.findById(sessionId);
    return record && withNumbers(record, await this.parties.of(record.accountId, sessionId));
  }

  /**
   * The redaction sweep of records an earlier version wrote with the numbers in clear and, beside
   * them, their digests under the current key: one statement renames the digests over the numbers
   * (on FerretDB one scan, then a write each by `_id`, a scan each; a backlog an upgrade leaves,
   * never again). Served by `{ expiredAt }`. The rest of them (no digests, or an earlier key's) are
   * `…WithoutCurrentDigests`'.
   */
  redactLegacyDueSystemWide(endedBefore: Date, exceptAccounts: readonly string[], at: Date): Promise<number> {
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

  /**
   * Whether any record that ended before `endedBefore` still holds numbers (an earlier version wrote
   * it so), bar those of accounts that keep them. Served by `{ expiredAt }`.
   */
  async anyUnredactedSystemWide(endedBefore: Date, exceptAccounts: readonly string[]): Promise<boolean> {
    const found = await this.systemWideSweeps.find(
      this.unredactedBefore(endedBefore, exceptAccounts),
      { limit: 1 },
      ['_id'],
    );
    return found.length > 0;
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

  /**
   * The retention sweep: sessions that ended before `endedBefore`, a range at a time, oldest first;
   * `beforeEach` deletes what belongs to each slice's sessions before their records go. Served by
   * `{ expiredAt }`.
   */
  deleteEndedBeforeSystemWide(
    endedBefore: Date,
    beforeEach: (ids: string[]) => Promise<void>,
  ): Promise<number> {
    return this.systemWideSweeps.deleteDue({}, 'expiredAt', endedBefore, { beforeEach });
  }

  /**
   * The retention sweep: ended sessions due, Proxy sessions a slice at a time after `beforeEachProxy`
   * has run with their ids (their places and names go first), the rest as one range. On FerretDB that
   * is two scans when no Proxy session is due, where slices of all of them cost a sorted scan each.
   * Served by `{ expiredAt }`.
   */
  async deleteEndedBeforeWithProxyCascadeSystemWide(
    endedBefore: Date,
    beforeEachProxy: (ids: string[]) => Promise<void>,
  ): Promise<number> {
    const proxies = await this.systemWideSweeps.deleteDue(
      { proxy: { $ne: null } },
      'expiredAt',
      endedBefore,
      {
        beforeEach: beforeEachProxy,
      },
    );
    return proxies + (await this.systemWideSweeps.deleteDue({ proxy: null }, 'expiredAt', endedBefore));
  }

  /**
   * The retention sweep: the ids of ended sessions that began before `createdBefore` and are still
   * kept (ended at or after `endedFrom`): sessions that lasted long; at most `limit`. Served by `{ createdAt }`.
   */
  async keptCreatedBeforeSystemWide(createdBefore: Date, endedFrom: Date, limit: number): Promise<string[]> {
    const rows = await this.systemWideSweeps.find(
      { createdAt: { $lt: createdBefore }, expiredAt: { $gte: endedFrom } },
      { limit },
      ['_id'],
    );
    return rows.map((r) => r._id);
  }
}

/** The parties of an ended session, as kept apart from its record. */
function partiesOf(doc: SessionDocument): EndedSessionPartiesDocument {
  return {
    _id: doc._id,
    accountId: doc.accountId,
    firstParty: doc.firstParty,
    secondParty: doc.secondParty,
    endedAt: doc.expiredAt ?? doc.modifiedAt,
  };
}

/** A record as shown: its parties' numbers while they are kept, their digests after. */
function withNumbers(record: SessionDocument, kept: EndedSessionPartiesDocument | null): SessionDocument {
  return kept ? { ...record, firstParty: kept.firstParty, secondParty: kept.secondParty } : record;
}
