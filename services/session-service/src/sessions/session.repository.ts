import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { FilterQuery, Model, UpdateQuery } from 'mongoose';
import { DEFAULT_SESSION_SETTINGS, type AccountScope, type SessionEndReason } from '@maskline/contracts';
import { AccountScopedRepository, STATEMENT_BATCH, StatementBatcher } from '@maskline/persistence';
import { EndedSessionRepository, type EndedKey } from './ended-session.repository';
import { SessionDocument, newestFirst, type ProxySessionFacts } from './session.schema';

/**
 * Sessions an expiry marked ended and did not finish (it stopped before it had announced and moved
 * them; or an earlier version left them in `sessions`), whenever that was: the expiry sweep finds
 * them (`dueForExpirySystemWide`), and whoever then holds the session's claim announces and moves
 * them. Any of them may not have been announced, so none is moved without its announcement.
 */
const UNFINISHED = { status: 'expired' as const, abandoned: { $ne: true } };

/** What the expiry sweep reads of a session (`dueForExpirySystemWide`). */
const DUE_FIELDS = ['status', 'expiresAt'] as const;
export type DueSession = Pick<SessionDocument, '_id' | (typeof DUE_FIELDS)[number]>;

/** Whether a session is one `UNFINISHED` describes. */
export function endsUnfinished(s: Pick<SessionDocument, 'status' | 'abandoned'>): boolean {
  return s.status === 'expired' && s.abandoned !== true;
}

/**
 * Sessions, live and ended. The live ones (and the orphan reaper's tombstones) are in `sessions`,
 * which every hot path reads; an ended session moves to the history (`EndedSessionRepository`),
 * which only the API's reads of ended sessions and the privacy sweeps touch.
 */
@Injectable()
export class SessionRepository extends AccountScopedRepository<SessionDocument> {
  /**
   * The moves' last step, for the expiries that run together: one statement once there are many
   * (`byIds`). It does not repeat the state it expects (expired) in its filter: the expiry holds the
   * session's claim and has just marked it, and nothing else ends a session or brings one back; on
   * FerretDB such a guard would make each statement decode every live session.
   */
  private readonly movedOut: StatementBatcher<string>;

  constructor(
    @InjectModel(SessionDocument.name) model: Model<SessionDocument>,
    readonly ended: EndedSessionRepository,
  ) {
    super(model);
    this.movedOut = new StatementBatcher<string>((ids) => this.systemWide.deleteByIds(ids), STATEMENT_BATCH);
  }

  /** Stores a new session; false when its id is taken (the orphan reaper abandoned the creation). */
  insert(doc: SessionDocument): Promise<boolean> {
    return this.insertUnlessTaken(doc);
  }

  /**
   * Sets single fields of a live session's Proxy facts (`proxy.<name>`), with any engine fields:
   * each writer changes only what it owns (an interaction's time, a close's reason), so a write
   * from an older read cannot undo another's. False when the session is not active.
   */
  async setProxyFields(
    scope: AccountScope,
    sessionId: string,
    proxy: Partial<ProxySessionFacts>,
    engine: Partial<SessionDocument> = {},
    /** Required of the stored session as well: equal values only (`firstJoinGuard`). */
    guard: Record<string, string | null> = {},
  ): Promise<boolean> {
    const set: Record<string, unknown> = { ...engine };
    for (const [name, value] of Object.entries(proxy)) set[`proxy.${name}`] = value;
    const matched = await this.updateOneScoped(
      { _id: sessionId, accountId: scope.accountId, status: 'active', ...guard },
      { $set: set } as UpdateQuery<SessionDocument>,
    );
    return matched > 0;
  }

  /**
   * Fences the write of a Proxy session's first participant and number whose outcome is unknown
   * (`firstJoinGuard` with `fenceAsRead`): true when the session still has no number and that write
   * can no longer land (its fence changed); false when it has one, or is no longer a live session.
   */
  fenceFirstJoin(scope: AccountScope, sessionId: string, fenceAsRead: string | null): Promise<boolean> {
    return this.fenceJoin(scope, sessionId, firstJoinGuard(fenceAsRead));
  }

  /**
   * As `fenceFirstJoin`, for the write of its second participant (`secondJoinGuard`): true when the
   * session still has no second party and that write can no longer land.
   */
  fenceSecondJoin(scope: AccountScope, sessionId: string, fenceAsRead: string | null): Promise<boolean> {
    return this.fenceJoin(scope, sessionId, secondJoinGuard(fenceAsRead));
  }

  private async fenceJoin(
    scope: AccountScope,
    sessionId: string,
    guard: Record<string, string | null>,
  ): Promise<boolean> {
    const matched = await this.updateOneScoped({ _id: sessionId, accountId: scope.accountId, ...guard }, {
      $set: { joinFence: randomUUID() },
    } as UpdateQuery<SessionDocument>);
    return matched > 0;
  }

  /** How many open Proxy sessions without a number an owner holds (at most `limit`+1 are counted). */
  async emptyProxySessionsOf(scope: AccountScope, limit: number): Promise<number> {
    const found = await this.findScoped(
      {
        accountId: scope.accountId,
        subaccountId: scope.subaccountId ?? null,
        status: 'active',
        virtualNumber: null,
        proxy: { $exists: true },
      } as FilterQuery<SessionDocument> & { accountId: string },
      { limit: limit + 1, offset: 0 },
    );
    return found.length;
  }

  /** An owner's live sessions of a Proxy Service, a batch at a time (the Service's deletion). */
  liveOfProxyService(scope: AccountScope, serviceSid: string, limit: number): Promise<SessionDocument[]> {
    return this.findScoped(
      {
        accountId: scope.accountId,
        subaccountId: scope.subaccountId ?? null,
        status: 'active',
        'proxy.serviceSid': serviceSid,
      } as FilterQuery<SessionDocument> & { accountId: string },
      { limit, offset: 0 },
    );
  }

  /**
   * A Proxy session deleted through its API: marked where it is, live or in the history (a session
   * moving between the two is marked in both).
   */
  async markProxyDeleted(scope: AccountScope, sessionId: string, at: Date): Promise<void> {
    await this.updateOneScoped({ _id: sessionId, accountId: scope.accountId }, {
      $set: { 'proxy.deletedAt': at },
    } as UpdateQuery<SessionDocument>);
    await this.ended.markProxyDeleted(scope, sessionId, at);
  }

  /**
   * The fence of a creation that may still store its session (the orphan reaper's, or the saga's
   * own when its store write went unanswered): the session as stored (live, or ended and moved to
   * the history), or null when it never will be. Unless it is found stored, the id is taken with a
   * tombstone so that the creation can never store it later; whichever insert comes first wins.
   */
  async fenceCreationSystemWide(creation: {
    sessionId: string;
    accountId: string;
    subaccountId: string | null;
    allocationId: string | null;
  }): Promise<SessionDocument | null> {
    const found = await this.getByIdSystemWide(creation.sessionId);
    if (found) return found.abandoned ? null : found;
    if (await this.abandonSystemWide(creation)) return null;
    const stored = await this.getByIdSystemWide(creation.sessionId);
    return stored?.abandoned ? null : stored;
  }

  /** The tombstone itself: true when it went in, false when the id was taken first. */
  private abandonSystemWide(creation: {
    sessionId: string;
    accountId: string;
    subaccountId: string | null;
    allocationId: string | null;
  }): Promise<boolean> {
    const now = new Date();
    return this.insertUnlessTaken({
      _id: creation.sessionId,
      accountId: creation.accountId,
      subaccountId: creation.subaccountId,
      firstParty: null,
      secondParty: null,
      virtualNumber: 'abandoned',
      allocationId: creation.allocationId,
      status: 'expired',
      settings: { ...DEFAULT_SESSION_SETTINGS },
      createdAt: now,
      modifiedAt: now,
      expiresAt: now,
      durationSeconds: 0,
      expiredAt: now,
      abandoned: true,
    });
  }

  /** Whether the id is an abandoned creation's tombstone. */
  async isAbandonedSystemWide(sessionId: string): Promise<boolean> {
    return (await this.systemWide.findById(sessionId))?.abandoned === true;
  }

  /** A session visible to this scope, live or ended: a subaccount sees only its own. */
  async get(scope: AccountScope, sessionId: string): Promise<SessionDocument | null> {
    const filter: AccountScope & Partial<SessionDocument> = { accountId: scope.accountId };
    if (scope.subaccountId) filter.subaccountId = scope.subaccountId;
    const live = await this.findByIdScoped(filter, sessionId);
    if (live && !live.abandoned) return live;
    // A tombstone: the session never lived, unless a fence came after it had already ended and
    // moved (a creation whose store write landed unanswered): the history says which.
    return this.ended.get(filter, sessionId);
  }

  /**
   * Whether the session is marked ended and its end not finished (still among the live sessions:
   * an expiry stopped between its mark and its announcement), for a request of its owner's that
   * must not be answered before its end is.
   */
  async endsUnfinishedLive(scope: AccountScope, sessionId: string): Promise<boolean> {
    const filter: AccountScope & Partial<SessionDocument> = { accountId: scope.accountId };
    if (scope.subaccountId) filter.subaccountId = scope.subaccountId;
    const live = await this.findByIdScoped(filter, sessionId);
    return !!live && endsUnfinished(live);
  }

  /**
   * A page of the account's sessions, live and ended, newest first. Each collection gives its first
   * offset + limit matches (the ended ones as keys alone); the page is cut from their merge, then
   * its ended sessions are read in full. A session caught between its move's two writes is in both
   * and shown once, as ended.
   */
  async list(filter: FilterQuery<SessionDocument> & { accountId: string }, limit: number, offset: number) {
    const wantsLive = filter.status !== 'expired';
    const wantsEnded = filter.status !== 'active';
    const live = { ...filter, status: 'active' as const };
    const { status: _status, ...ended } = filter;
    const [livePage, endedPage] = await Promise.all([
      wantsLive
        ? Promise.all([
            this.findScoped(live, { limit: offset + limit, offset: 0, sort: { createdAt: -1, _id: 1 } }),
            this.countScoped(live),
          ])
        : Promise.resolve([[], 0] as [SessionDocument[], number]),
      wantsEnded ? this.ended.firstKeys(ended, offset + limit) : Promise.resolve({ keys: [], total: 0 }),
    ]);
    const endedIds = new Set(endedPage.keys.map((k) => k._id));
    const merged: Array<SessionDocument | EndedKey> = [
      ...livePage[0].filter((s) => !endedIds.has(s._id)),
      ...endedPage.keys,
    ].sort(newestFirst);
    const page = merged.slice(offset, offset + limit);
    const shown = new Map(
      (await this.ended.shown(filter.accountId, page.filter(isEndedKey))).map((s) => [s._id, s]),
    );
    // An ended session deleted by the retention sweep since its key was read is left out.
    const objects = page.flatMap((s) =>
      isEndedKey(s) ? (shown.has(s._id) ? [shown.get(s._id)!] : []) : [s],
    );
    return { objects, total: livePage[1] + endedPage.total };
  }

  /** Changes a session of the account while it is active; false when it is not (ended meanwhile). */
  async updateActive(
    scope: AccountScope,
    sessionId: string,
    set: Partial<SessionDocument>,
  ): Promise<boolean> {
    const matched = await this.updateOneScoped(
      { _id: sessionId, accountId: scope.accountId, status: 'active' },
      { $set: set },
    );
    return matched > 0;
  }

  // ---- System-wide: the system's own work on every account's sessions. ----

  /** A session, live or ended, by an id the system itself holds (orphan checks, callback targets). */
  async getByIdSystemWide(sessionId: string): Promise<SessionDocument | null> {
    return (await this.getLiveSystemWide(sessionId)) ?? this.ended.getByIdSystemWide(sessionId);
  }

  /** A live session (or tombstone) by id: the expiry's read, which never needs the history. */
  getLiveSystemWide(sessionId: string): Promise<SessionDocument | null> {
    return this.systemWide.findById(sessionId);
  }

  /**
   * Live sessions for the call routers' snapshot, in id order: after an id (whatever ended before it
   * meanwhile), or from an offset (an earlier release's router).
   */
  activePageSystemWide(
    from: { after: string | null } | { offset: number },
    limit: number,
  ): Promise<SessionDocument[]> {
    if ('offset' in from)
      return this.systemWide.find({ status: 'active' }, { sort: { _id: 1 }, offset: from.offset, limit });
    const filter: FilterQuery<SessionDocument> = { status: 'active' };
    if (from.after !== null) filter._id = { $gt: from.after };
    return this.systemWide.find(filter, { sort: { _id: 1 }, limit });
  }

  /**
   * How many sessions each account holds that its live-session count (`LiveSessionQuota`) still
   * counts: live, and marked ended but not finished (given back only once moved to the history);
   * not the orphan reaper's tombstones: by main account (its subaccounts' included), and by
   * subaccount. One pass of one cursor over `sessions` (a scan on FerretDB either way).
   */
  async countedByOwnerSystemWide(): Promise<{
    byAccount: Map<string, number>;
    bySubaccount: Map<string, number>;
  }> {
    const byAccount = new Map<string, number>();
    const bySubaccount = new Map<string, number>();
    const count = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
    await this.systemWide.eachBatch(
      { abandoned: { $ne: true } },
      1000,
      async (docs) => {
        for (const d of docs) {
          count(byAccount, d.accountId);
          if (d.subaccountId) count(bySubaccount, d.subaccountId);
        }
      },
      ['accountId', 'subaccountId'],
    );
    return { byAccount, bySubaccount };
  }

  /**
   * Live sessions on a number, every account's (the router confines them to the number's owner):
   * all of them, or (`page`) at most `limit` after the id `after` (null: from the first), in id order.
   */
  activeOnNumberSystemWide(
    virtualNumber: string,
    page?: { after: string | null; limit: number },
  ): Promise<SessionDocument[]> {
    if (!page) return this.systemWide.find({ virtualNumber, status: 'active' });
    const filter: FilterQuery<SessionDocument> = { virtualNumber, status: 'active' };
    if (page.after !== null) filter._id = { $gt: page.after };
    return this.systemWide.find(filter, { sort: { _id: 1 }, limit: page.limit });
  }

  /**
   * Live sessions on a number outside its owner's scope, by page: at most `limit` after the id
   * `after` (null: from the first), in id order, their id and accounts alone. Those of every account
   * but the owner's and `spared`, and of the owner's account those of another subaccount (or of the
   * main account, when the number is a subaccount's): what a number taken or moved must end. The
   * owner's own are left out by the store's index ({virtualNumber, status, accountId, subaccountId,
   * _id}), so that its many sessions on the number are neither read nor sent (on MongoDB; FerretDB
   * v1 scans either way).
   */
  liveOnNumberOutside(
    virtualNumber: string,
    owner: { accountId: string; subaccountId: string | null },
    spared: readonly string[],
    after: string | null,
    limit: number,
  ): Promise<Array<Pick<SessionDocument, '_id' | 'accountId' | 'subaccountId'>>> {
    const filter: FilterQuery<SessionDocument> = {
      virtualNumber,
      status: 'active',
      $or: [
        { accountId: { $nin: [owner.accountId, ...spared] } },
        { accountId: owner.accountId, subaccountId: { $ne: owner.subaccountId } },
      ],
    };
    if (after !== null) filter._id = { $gt: after };
    return this.systemWide.find(filter, { sort: { _id: 1 }, limit }, ['accountId', 'subaccountId']);
  }

  /**
   * The expiry sweep's work: the sessions an expiry marked ended and did not finish (`UNFINISHED`,
   * half of `limit` at most), then the active sessions due by `now`, the most overdue first; `limit`
   * in all. Their id, state
   * and expiry alone (`DUE_FIELDS`): the sweep only times them, and each is read in full when it
   * ends; whole sessions made FerretDB decode and send about 400 of them every 10 s at 20 sessions
   * a second, most of a page past the first (`getMore`).
   */
  async dueForExpirySystemWide(now: Date, limit: number): Promise<DueSession[]> {
    // At most half of it: sessions that cannot be finished yet never keep due ones from ending.
    const unfinished = await this.systemWide.find(UNFINISHED, { limit: Math.ceil(limit / 2) }, DUE_FIELDS);
    // A limit of 0 would be none at all.
    if (unfinished.length >= limit) return unfinished;
    const due = await this.systemWide.find(
      { status: 'active', expiresAt: { $lte: now } },
      { sort: { expiresAt: 1 }, limit: limit - unfinished.length },
      DUE_FIELDS,
    );
    return [...unfinished, ...due];
  }

  /**
   * The expiry's mark (it holds the session's claim): the session is marked ended where it is, with
   * why, and the copy stored after the mark comes back, in one statement. An update that lands after the mark
   * finds it ended and fails; one that landed before is in the copy, which is what is announced and
   * kept. Its filter is the id alone, for the reason `movedOut`'s is. Null when it is not in
   * `sessions` (moved already).
   */
  markEndedSystemWide(
    sessionId: string,
    at: Date,
    reason: SessionEndReason,
  ): Promise<SessionDocument | null> {
    return this.systemWide.updateByIdReturning(sessionId, {
      $set: { status: 'expired', expiredAt: at, modifiedAt: at, endReason: reason },
    });
  }

  /**
   * The expiry's move of a session marked ended (`as ended`: by this expiry's mark; `as found`: by
   * an earlier one, `UNFINISHED`): that copy goes to the history, then the session leaves `sessions`. Each step is idempotent: an expiry retried after a crash finishes the move
   * (`dueForExpirySystemWide` finds it).
   */
  async moveMarkedSystemWide(marked: SessionDocument, how: 'as ended' | 'as found'): Promise<void> {
    // Found marked (`UNFINISHED`): an earlier version may have recorded it in the collection kept
    // before days, which `record` looks in; an expiry's own record goes in its day, once.
    if (how === 'as found') await this.ended.record([marked]);
    else await this.ended.recordOne(marked);
    await this.movedOut.run(marked._id);
  }

  /** The retention sweep: the ids of what `sessions` holds that began before `before` (live sessions, tombstones), at most `limit`. */
  async createdBeforeSystemWide(before: Date, limit: number): Promise<string[]> {
    const rows = await this.systemWide.find({ createdAt: { $lt: before } }, { limit }, ['_id']);
    return rows.map((r) => r._id);
  }

  /** The retention sweep: tombstones older than `before`, their ids alone. */
  async tombstonesBeforeSystemWide(before: Date, limit: number): Promise<string[]> {
    const rows = await this.systemWide.find({ abandoned: true, expiredAt: { $lte: before } }, { limit }, [
      '_id',
    ]);
    return rows.map((r) => r._id);
  }

  /** The retention sweep's delete of tombstones. */
  deleteSystemWide(sessionIds: readonly string[]): Promise<number> {
    return this.systemWide.deleteByIds(sessionIds);
  }
}

function isEndedKey(s: SessionDocument | EndedKey): s is EndedKey {
  return 'in' in s;
}

/**
 * What the write of a Proxy session's first participant requires of the stored session: no number
 * yet, and its join fence as the writer read it (`fenceFirstJoin` changes it). Equal values only (a
 * guard by id).
 */
export function firstJoinGuard(fenceAsRead: string | null): Record<string, string | null> {
  return { virtualNumber: null, joinFence: fenceAsRead };
}

/**
 * What the write of a Proxy session's second participant requires of the stored session: no second
 * party yet, and its join fence as the writer read it (`fenceSecondJoin` changes it).
 */
export function secondJoinGuard(fenceAsRead: string | null): Record<string, string | null> {
  return { secondParty: null, joinFence: fenceAsRead };
}
