import { Injectable } from '@nestjs/common';
import type { FilterQuery } from 'mongoose';
import {
  AddAllocationParty,
  CodedError,
  ErrorCodes,
  GetVirtualNumber,
  mayHaveHappened,
  SessionErrorCodes,
  type AccountScope,
  type ListSessions,
  type RpcParsedRequestOf,
  type SessionView,
  type UpdateSession,
} from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { WRITE_CALL } from '../config/write-call';
import { ExpiryScheduler } from '../expiry/expiry-scheduler';
import { PartyRedaction } from '../privacy/party-redaction';
import { ownNumberRefusal } from './own-number-refusal';
import { SessionAnnouncer, hasNumber, type NumberedSession } from './session-announcer';
import { SessionRepository } from './session.repository';
import type { SessionDocument } from './session.schema';
import { SessionViews } from './session-views';
import { SessionWriteTurns, changeTime } from './session-write-turns';

const DEFAULT_WINDOW_MS = 7 * 86400 * 1000;

@Injectable()
export class SessionsService {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly views: SessionViews,
    private readonly expiry: ExpiryScheduler,
    private readonly rpc: RpcClient,
    private readonly announcer: SessionAnnouncer,
    private readonly redaction: PartyRedaction,
    private readonly turns: SessionWriteTurns,
  ) {}

  async get(scope: AccountScope, sessionId: string): Promise<SessionView> {
    return this.views.render(await this.require(scope, sessionId));
  }

  /** Newest first. Without created_time bounds, the last 7 days (as Plivo). */
  async list(request: RpcParsedRequestOf<typeof ListSessions>) {
    const filter: FilterQuery<SessionDocument> & { accountId: string } = {
      accountId: request.scope.accountId,
    };
    if (request.scope.subaccountId) filter.subaccountId = request.scope.subaccountId;
    // Sessions made through Twilio's Proxy API are seen only there.
    filter.proxy = { $exists: false };
    // A party is found by number whether its sessions still show it or its digest.
    const forms = (number: string) => ({ $in: this.redaction.storedForms(request.scope.accountId, number) });
    if (request.firstParty) filter.firstParty = forms(request.firstParty);
    if (request.secondParty) filter.secondParty = forms(request.secondParty);
    if (request.party)
      filter.$or = [{ firstParty: forms(request.party) }, { secondParty: forms(request.party) }];
    if (request.virtualNumber) filter.virtualNumber = request.virtualNumber;
    if (request.status !== 'all') filter.status = request.status;
    const created = toRange(request.createdTime, (v) => new Date(v));
    filter.createdAt =
      Object.keys(created).length > 0 ? created : { $gte: new Date(Date.now() - DEFAULT_WINDOW_MS) };
    const expiry = toRange(request.expiryTime, (v) => new Date(v));
    if (Object.keys(expiry).length > 0) filter.expiresAt = expiry;
    const duration = toRange(request.durationSeconds, (v) => v);
    if (Object.keys(duration).length > 0) filter.durationSeconds = duration;
    const page = await this.sessions.list(filter, request.limit, request.offset);
    return {
      total: page.total,
      objects: await this.views.renderMany(request.scope.accountId, page.objects.filter(hasNumber)),
    };
  }

  /**
   * In the session's turn (`SessionWriteTurns`): read, checked, written and announced after any
   * other change of it under way; its answer is rendered once the turn is given back.
   */
  async update(request: RpcParsedRequestOf<typeof UpdateSession>): Promise<SessionView> {
    await this.require(request.scope, request.sessionId); // its own before its turn (SessionWriteTurns)
    const { updated, events } = await this.turns.during(request.scope.accountId, request.sessionId, () =>
      this.change(request),
    );
    return this.views.render(updated, { events: await events });
  }

  private async change(request: RpcParsedRequestOf<typeof UpdateSession>) {
    const doc = await this.require(request.scope, request.sessionId);
    if (doc.status === 'expired')
      throw new CodedError(SessionErrorCodes.ALREADY_EXPIRED, 'Session already expired');
    const { firstParty, secondParty, sessionExpirySeconds, ...settings } = request.changes;
    if (settings.messageMasking && !doc.settings.messageMasking) await this.requireTexting(doc);
    const now = changeTime(doc);
    const set: Partial<SessionDocument> = { modifiedAt: now, settings: { ...doc.settings, ...settings } };
    // Both fields judged before either is added: a refusal of one never leaves the other's party
    // held on the number with the session not showing it (a single-party session lacks one party,
    // so at most one is added).
    const joining: Array<readonly ['first_party' | 'second_party', string]> = [];
    for (const [field, value] of [
      ['first_party', firstParty],
      ['second_party', secondParty],
    ] as const) {
      if (value === undefined) continue;
      const current = field === 'first_party' ? doc.firstParty : doc.secondParty;
      if (current === value) continue;
      if (!doc.settings.createSessionWithSingleParty || current !== null) {
        throw CodedError.validation(
          field,
          `${field} can only be set on a single-party session that lacks it`,
        );
      }
      const other = field === 'first_party' ? doc.secondParty : doc.firstParty;
      if (other === value)
        throw CodedError.validation(field, 'first_party and second_party must be different numbers');
      joining.push([field, value]);
    }
    for (const [field, value] of joining) {
      await this.rpc
        .request(
          AddAllocationParty,
          { scope: { accountId: doc.accountId }, allocationId: doc.allocationId, party: value },
          WRITE_CALL,
        )
        .catch((err: unknown) => {
          throw ownNumberRefusal(err, () => field);
        });
      if (field === 'first_party') set.firstParty = value;
      else set.secondParty = value;
    }
    if (sessionExpirySeconds !== undefined) {
      // As Plivo's examples show: the new expiry counts from the update.
      set.expiresAt = new Date(now.getTime() + sessionExpirySeconds * 1000);
      set.durationSeconds = Math.round((set.expiresAt.getTime() - doc.createdAt.getTime()) / 1000);
      set.settings = { ...set.settings!, sessionExpirySeconds };
    }
    // Its steps, for the answer, read while it is written and read back (their days' scans on
    // FerretDB were the longest wait of an update). Marked handled, so that an update refused
    // below leaves no unhandled rejection; awaited, it still throws.
    const events = this.views.eventsOf(doc);
    events.catch(() => undefined);
    // Only while the session is active: an expiry or DELETE that won the race stays the last word.
    const written = await this.sessions
      .updateActive(request.scope, doc._id, set)
      .catch(async (err: unknown) => {
        // It may have landed (a store past its deadline): the sweep announces the session as stored.
        if (mayHaveHappened(err)) await this.announcer.noteForSweep(doc.accountId, doc._id);
        throw err;
      });
    if (!written) throw new CodedError(SessionErrorCodes.ALREADY_EXPIRED, 'Session already expired');
    if (set.expiresAt) this.expiry.schedule(doc._id, set.expiresAt);
    // Announced as stored after this write, not as this request saw it.
    const stored = await this.sessions.get(request.scope, doc._id);
    const updated = stored && hasNumber(stored) ? stored : ({ ...doc, ...set } as NumberedSession);
    await this.announcer.updatedInRequest(updated, now);
    return { updated, events };
  }

  /** Plivo's DELETE: marks the session expired; the second time is "Session already expired". */
  async expire(scope: AccountScope, sessionId: string): Promise<void> {
    await this.require(scope, sessionId); // its own before its turn (SessionWriteTurns)
    await this.turns.during(scope.accountId, sessionId, async () => {
      const doc = await this.require(scope, sessionId);
      // Ended, unless an expiry stopped part-way (marked, its number or end not yet given back or
      // announced): that end is finished now, and answered once it is, as any DELETE.
      if (doc.status === 'expired' && !(await this.sessions.endsUnfinishedLive(scope, doc._id)))
        throw new CodedError(SessionErrorCodes.ALREADY_EXPIRED, 'Session already expired');
      await this.expiry.expireNowForOwner(scope, doc._id);
    });
  }

  /**
   * Message masking turned on later: the session's number must take text messages (a number
   * since deleted is not the account's to look at any more; the relay decides for its messages).
   */
  private async requireTexting(doc: NumberedSession): Promise<void> {
    const number = await this.rpc
      .request(GetVirtualNumber, { scope: { accountId: doc.accountId }, number: doc.virtualNumber })
      .catch((err: unknown) => {
        if (err instanceof CodedError && err.code === ErrorCodes.NOT_FOUND) return null;
        throw err;
      });
    if (number && !number.smsEnabled) {
      throw CodedError.validation(
        'message_masking',
        `message_masking cannot be turned on: the session's virtual number ${doc.virtualNumber} does not take text messages (its sms_enabled is false)`,
      );
    }
  }

  /** A session of the Plivo API (one made through Twilio's Proxy API is seen only there). */
  private async require(scope: AccountScope, sessionId: string): Promise<NumberedSession> {
    const doc = await this.sessions.get(scope, sessionId);
    if (!doc || doc.proxy || !hasNumber(doc)) throw CodedError.notFound(`session ${sessionId} not found`);
    return doc;
  }
}

function toRange<T, V>(range: { gt?: T; gte?: T; lt?: T; lte?: T; eq?: T }, map: (v: T) => V) {
  const out: Record<string, V> = {};
  if (range.gt !== undefined) out.$gt = map(range.gt);
  if (range.gte !== undefined) out.$gte = map(range.gte);
  if (range.lt !== undefined) out.$lt = map(range.lt);
  if (range.lte !== undefined) out.$lte = map(range.lte);
  if (range.eq !== undefined) out.$eq = map(range.eq);
  return out;
}
