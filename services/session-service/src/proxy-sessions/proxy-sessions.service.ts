import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  CodedError,
  ErrorCodes,
  DEFAULT_SESSION_SETTINGS,
  ProxyErrorCodes,
  SESSION_FIELDS,
  modeNeeds,
  proxySessionSidOf,
  sessionIdOfProxySid,
  type AccountScope,
  type CreateProxySession,
  type CreateProxyParticipant,
  type DeleteProxyInteraction,
  type PrepareProxyMessage,
  type ProxyParticipant,
  type ListProxySessions,
  type ListProxyInteractions,
  type ProxyService,
  type ProxySession,
  type RpcParsedRequestOf,
  type UpdateProxySession,
  mayHaveHappened,
  newSessionId,
  sameHolder,
} from '@maskline/contracts';
import { LOGGER } from '@maskline/observability';
import { ExpiryScheduler, endNotSeenInTime } from '../expiry/expiry-scheduler';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { ProxyServicesService } from '../proxy-services/proxy-services.service';
import { CallEventRepository } from '../interactions/call-event.repository';
import { SessionAnnouncer, hasNumber } from '../sessions/session-announcer';
import { SessionRepository } from '../sessions/session.repository';
import { LiveSessionQuota } from '../sessions/live-session-quota';
import { SessionWriteTurns, changeTime } from '../sessions/session-write-turns';
import type { ProxySessionDocument, ProxySessionFacts, SessionDocument } from '../sessions/session.schema';
import { ProxyParticipantsService } from './proxy-participants.service';
import { ProxySessionNameRepository } from './proxy-session-name.repository';
import { ProxySessionViews, participantView } from './proxy-session-views';
import { proxyExpiry } from './proxy-expiry';

/** Closing a deleted Service's Sessions: how many a batch, and batches at most per request. */
const CLOSE_BATCH = 100;
const CLOSE_ROUNDS = 20;

/** How old a name's hold with no session behind it must be before another session may take the name. */
const NAME_GRACE_MS = 60_000;

/**
 * Twilio Proxy's Sessions on Maskline's engine. A Session is an engine session (one id: its
 * `KC…` SID spells the session's UUID) that carries its Proxy facts, seen only through the Proxy
 * API. It has no number until its first participant, which gets one from the Service's numbers;
 * the second shares it. Expiry, routing, interactions and the pool are the engine's.
 */
@Injectable()
export class ProxySessionsService {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly names: ProxySessionNameRepository,
    private readonly services: ProxyServicesService,
    private readonly participants: ProxyParticipantsService,
    private readonly views: ProxySessionViews,
    private readonly expiry: ExpiryScheduler,
    private readonly announcer: SessionAnnouncer,
    private readonly callEvents: CallEventRepository,
    private readonly turns: SessionWriteTurns,
    private readonly quota: LiveSessionQuota,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async create(request: RpcParsedRequestOf<typeof CreateProxySession>): Promise<ProxySession> {
    const { scope } = request;
    const service = await this.services.get(scope, request.service);
    const identifiers = request.participants.map((p) => p.identifier);
    if (new Set(identifiers).size < identifiers.length) {
      throw new CodedError(
        ProxyErrorCodes.PARTICIPANT_EXISTS,
        'Participants: the same Identifier is given twice (The identifier is already a participant in the Session)',
        { field: 'Participants' },
      );
    }
    const now = new Date();
    const dateExpiry = request.dateExpiry ? futureDate(request.dateExpiry, now) : null;
    // Approximate under concurrent creates: a bound on what one owner makes every hot path read.
    const limit = this.config.PROXY_EMPTY_SESSIONS_MAX;
    if ((await this.sessions.emptyProxySessionsOf(scope, limit)) >= limit) {
      throw new CodedError(
        ProxyErrorCodes.TOO_MANY_EMPTY_SESSIONS,
        `this account holds ${limit} open Sessions without participants, the most it may; add participants to them, or close them`,
      );
    }
    const sessionId = newSessionId();
    const uniqueName = request.uniqueName ?? null;
    const mode = request.mode ?? 'voice-and-message';
    const facts: ProxySessionFacts = {
      serviceSid: service.sid,
      uniqueName,
      mode,
      ttl: request.ttl ?? service.defaultTtl,
      dateExpiry,
      lastInteractionAt: null,
      closedReason: null,
    };
    const expiresAt = proxyExpiry(facts, now);
    const doc: ProxySessionDocument = {
      _id: sessionId,
      accountId: scope.accountId,
      subaccountId: scope.subaccountId ?? null,
      firstParty: null,
      secondParty: null,
      virtualNumber: null,
      allocationId: null,
      status: 'active',
      settings: engineSettings(facts),
      createdAt: now,
      modifiedAt: now,
      expiresAt,
      durationSeconds: Math.round((expiresAt.getTime() - now.getTime()) / 1000),
      expiredAt: null,
      proxy: facts,
    };
    // One of the account's live sessions, before anything is written (a refusal costs nothing else):
    // given back unless the session is stored (its end gives it back).
    await this.quota.take(scope);
    let written: 'not asked' | 'asked' = 'not asked';
    try {
      if (uniqueName && !(await this.holdName(scope, service.sid, uniqueName, sessionId))) {
        throw new CodedError(
          ProxyErrorCodes.SESSION_NAME_TAKEN,
          `UniqueName: another Session of this Service is named "${uniqueName}" (Session UniqueName must be unique)`,
          { field: 'UniqueName' },
        );
      }
      try {
        written = 'asked';
        if (!(await this.sessions.insert(doc))) {
          throw new CodedError(ErrorCodes.CONFLICT, 'the session could not be created; try again', {
            retryable: true,
          });
        }
      } catch (err) {
        if (uniqueName) {
          // Its own failure never takes the place of the write's (which decides what is given back).
          await this.names
            .release(scope.accountId, service.sid, uniqueName, sessionId)
            .catch((releaseErr: unknown) =>
              this.logger.warn(
                { err: releaseErr, sessionId },
                'the UniqueName of a Session not created is left to its grace period',
              ),
            );
        }
        throw err;
      }
    } catch (err) {
      if (written === 'not asked' || !mayHaveHappened(err)) {
        await this.quota.giveBack(scope, 'Proxy session not stored');
      } else {
        await this.settleUnanswered(scope, doc);
      }
      throw err;
    }
    this.expiry.schedule(sessionId, expiresAt);
    let stored: ProxySessionDocument;
    try {
      // Its Service deleted meanwhile (read before it was stored): not made. Read after the store,
      // so a deletion either is seen here or comes after the store, and its last sweep of the
      // Service's Sessions (after the Service is gone) closes this one.
      await this.services.get(scope, service.sid);
      // In the session's turn, as any add: its UniqueName is already known, and a change asked for
      // by it meanwhile (an update, another add) comes before or after each add, never between
      // its writes.
      for (const participant of request.participants) {
        await this.turns.during(scope.accountId, sessionId, async () => {
          const live = await this.requireLive(scope, service, proxySessionSidOf(sessionId)).catch(
            (err: unknown) => {
              // Gone: the orphan reaper discarded it (this create ran past ORPHAN_AGE_MS).
              throw isNotFound(err) ? createNotFinished() : err;
            },
          );
          await this.participants.add(scope, service, live, participant, { inCreate: true });
        });
      }
      stored =
        request.participants.length === 0
          ? await this.requireStored(scope, service, sessionId)
          : await this.turns.during(scope.accountId, sessionId, () =>
              this.finishCreate(scope, service, sessionId),
            );
    } catch (err) {
      // All or nothing, as a create: the session and what its first participants took go back.
      // The discard ends it before it deletes it (ended after, the history's copy could miss the
      // delete); should the discard fail, the end is asked for anyway, which this replica keeps
      // trying (in memory): a session its owner was told failed is never left to its Ttl.
      await this.discard(scope, doc).catch(async (cleanup: unknown) => {
        this.logger.warn({ err: cleanup, sessionId }, 'a failed Proxy session create is left to its end');
        await this.expiry.endNow(scope, sessionId, 'api');
      });
      throw err;
    }
    // Just created: no call or message yet (none to read from the history).
    return this.views.session(stored, []);
  }

  /**
   * The end of a create with participants, in the session's turn: its first participant's step goes
   * (the orphan reaper ends a session whose create left it: a create that failed, its discard too, or
   * died), then the session as stored is its answer. One the reaper ended meanwhile (this create ran
   * past ORPHAN_AGE_MS before this turn) fails the create, as the reaper took it to.
   */
  private async finishCreate(
    scope: AccountScope,
    service: ProxyService,
    sessionId: string,
  ): Promise<ProxySessionDocument> {
    // Read and judged first: forgetting the step is the last thing that can fail before the answer
    // (a session read after it, and not read, was a failed create with no step left to end it).
    const stored = await this.requireStored(scope, service, sessionId).catch((err: unknown) => {
      throw isNotFound(err) ? createNotFinished() : err;
    });
    if (stored.status !== 'active' || stored.failedCreation) throw createNotFinished();
    await this.participants.finishCreate(scope, sessionId);
    return stored;
  }

  async get(scope: AccountScope, serviceRef: string, ref: string): Promise<ProxySession> {
    const service = await this.services.get(scope, serviceRef);
    return this.views.session(await this.require(scope, service, ref));
  }

  async list(request: RpcParsedRequestOf<typeof ListProxySessions>) {
    const { scope, page, pageSize } = request;
    const service = await this.services.get(scope, request.service);
    const filter = {
      accountId: scope.accountId,
      subaccountId: scope.subaccountId ?? null,
      'proxy.serviceSid': service.sid,
      'proxy.deletedAt': { $exists: false },
    };
    const found = await this.sessions.list(filter, pageSize + 1, page * pageSize);
    const docs = found.objects.slice(0, pageSize) as ProxySessionDocument[];
    return {
      sessions: await this.views.sessions(scope.accountId, docs),
      more: found.objects.length > pageSize,
    };
  }

  /** Twilio's update: `Ttl` and `DateExpiry` move the expiry; `Status=closed` closes it. */
  async update(request: RpcParsedRequestOf<typeof UpdateProxySession>): Promise<ProxySession> {
    const { scope } = request;
    const service = await this.services.get(scope, request.service);
    // In the session's turn (`SessionWriteTurns`), read after any change of it under way: a Ttl
    // set meanwhile, or an interaction's sliding expiry, is not undone.
    // Read inside it by the id the ref named when the turn was asked for (a UniqueName freed and
    // taken again meanwhile names another session).
    const sessionId = await this.sessionIdOf(scope, service, request.session);
    await this.requireStored(scope, service, sessionId); // its own before its turn (SessionWriteTurns)
    return this.turns.during(scope.accountId, sessionId, async () =>
      this.change(request, service, await this.requireStored(scope, service, sessionId)),
    );
  }

  private async change(
    request: RpcParsedRequestOf<typeof UpdateProxySession>,
    service: ProxyService,
    doc: ProxySessionDocument,
  ): Promise<ProxySession> {
    const { scope } = request;
    if (doc.status === 'expired') {
      if (request.status === 'open' || request.status === 'in-progress') {
        throw new CodedError(
          ProxyErrorCodes.SESSION_STATUS_INVALID,
          'Status: Maskline does not re-open a closed Session (its number may be another party’s now); create a new one',
          { field: 'Status' },
        );
      }
      throw new CodedError(ProxyErrorCodes.SESSION_CLOSED, 'Session is closed and cannot be updated', {
        field: 'Status',
      });
    }
    if (request.status === 'closed') {
      await this.closeForOwner(scope, doc);
      return this.views.session(await this.requireStored(scope, service, doc._id));
    }
    // open and in-progress are what an unclosed session already is: nothing to change.
    if (request.ttl !== undefined || request.dateExpiry !== undefined) {
      const now = changeTime(doc);
      const changes: Partial<ProxySessionFacts> = {
        ...(request.ttl !== undefined ? { ttl: request.ttl } : {}),
        ...(request.dateExpiry !== undefined ? { dateExpiry: futureDate(request.dateExpiry, now) } : {}),
      };
      const facts: ProxySessionFacts = { ...doc.proxy, ...changes };
      // The TTL counts from the later of creation and the last interaction, as it always has.
      const expiresAt = proxyExpiry(facts, facts.lastInteractionAt ?? doc.createdAt);
      const engine: Partial<SessionDocument> = {
        expiresAt,
        modifiedAt: now,
        durationSeconds: Math.round((expiresAt.getTime() - doc.createdAt.getTime()) / 1000),
        settings: engineSettings(facts, doc.settings),
      };
      if (!(await this.sessions.setProxyFields(scope, doc._id, changes, engine))) {
        throw new CodedError(ProxyErrorCodes.SESSION_CLOSED, 'Session is closed and cannot be updated');
      }
      this.expiry.schedule(doc._id, expiresAt);
      const updated = await this.requireStored(scope, service, doc._id);
      if (hasNumber(updated)) await this.announcer.updatedInRequest(updated, now);
      return this.views.session(updated);
    }
    return this.views.session(doc);
  }

  /** Twilio's DELETE: the session is closed if open, leaves the Service's list, and frees its name. */
  async delete(scope: AccountScope, serviceRef: string, ref: string): Promise<void> {
    const service = await this.services.get(scope, serviceRef);
    const sessionId = await this.sessionIdOf(scope, service, ref);
    await this.requireStored(scope, service, sessionId); // its own before its turn (SessionWriteTurns)
    // In the session's turn, as every change of it a request makes.
    await this.turns.during(scope.accountId, sessionId, async () =>
      this.remove(scope, service, await this.requireStored(scope, service, sessionId)),
    );
  }

  private async remove(scope: AccountScope, service: ProxyService, doc: ProxySessionDocument): Promise<void> {
    const deletedAt = new Date();
    // Closed first: a close that fails leaves it visible, and a DELETE repeated finishes the work;
    // as does one finding it marked ended by an expiry that stopped part-way.
    if (doc.status === 'active' || (await this.sessions.endsUnfinishedLive(scope, doc._id)))
      await this.closeForOwner(scope, doc);
    // Ended (now or before): marked deleted where it is.
    await this.sessions.markProxyDeleted(scope, doc._id, deletedAt);
    if (doc.proxy.uniqueName)
      await this.names.release(scope.accountId, service.sid, doc.proxy.uniqueName, doc._id);
  }

  /**
   * The Service is being deleted: each of its live Sessions is closed and deleted. Bounded: a
   * session another replica is ending right now is left to it; if any is left, a retryable error
   * says so (the Service's deletion, repeated, finishes the work).
   */
  async closeAllOf(scope: AccountScope, serviceSid: string): Promise<number> {
    let closed = 0;
    const left = new Set<string>();
    for (let round = 0; round < CLOSE_ROUNDS; round++) {
      const batch = (
        (await this.sessions.liveOfProxyService(scope, serviceSid, CLOSE_BATCH)) as ProxySessionDocument[]
      ).filter((doc) => !left.has(doc._id));
      if (batch.length === 0) break;
      for (const doc of batch) {
        if (!(await this.close(scope, doc, 'no wait'))) {
          left.add(doc._id);
          continue;
        }
        await this.sessions.markProxyDeleted(scope, doc._id, new Date());
        if (doc.proxy.uniqueName) {
          await this.names.release(scope.accountId, serviceSid, doc.proxy.uniqueName, doc._id);
        }
        closed++;
      }
    }
    const remaining = await this.sessions.liveOfProxyService(scope, serviceSid, 1);
    if (remaining.length > 0) {
      throw new CodedError(
        ErrorCodes.DEPENDENCY_UNAVAILABLE,
        'the Service’s Sessions are still being closed; repeat the request',
        { retryable: true },
      );
    }
    return closed;
  }

  async addParticipant(
    request: RpcParsedRequestOf<typeof CreateProxyParticipant>,
  ): Promise<ProxyParticipant> {
    const service = await this.services.get(request.scope, request.service);
    // In the session's turn: its number and parties are written and announced after a change under
    // way (a Ttl update, an interaction), from the session as that left it, and before the next.
    const sessionId = await this.sessionIdOf(request.scope, service, request.session);
    await this.requireStored(request.scope, service, sessionId); // its own before its turn (SessionWriteTurns)
    return this.turns.during(request.scope.accountId, sessionId, async () => {
      const doc = await this.requireLive(request.scope, service, proxySessionSidOf(sessionId));
      const added = await this.participants.add(request.scope, service, doc, request.participant);
      return participantView(added, doc);
    });
  }

  async participantsOf(scope: AccountScope, serviceRef: string, ref: string): Promise<ProxyParticipant[]> {
    const service = await this.services.get(scope, serviceRef);
    const doc = await this.require(scope, service, ref);
    return this.participants.list(doc).map((p) => participantView(p, doc));
  }

  async participant(scope: AccountScope, serviceRef: string, ref: string, sid: string) {
    const found = (await this.participantsOf(scope, serviceRef, ref)).find((p) => p.sid === sid);
    if (!found) throw CodedError.notFound(`Participant ${sid} not found`);
    return found;
  }

  async interactions(request: RpcParsedRequestOf<typeof ListProxyInteractions>) {
    const { scope, page, pageSize } = request;
    const service = await this.services.get(scope, request.service);
    const doc = await this.require(scope, service, request.session);
    const participants = this.participants.list(doc);
    // A participant's MessageInteractions: a participant the Session does not have is not found,
    // as Twilio answers, not an empty page.
    if (request.sentThroughApiTo && !participants.some((p) => p.sid === request.sentThroughApiTo)) {
      throw CodedError.notFound(`Participant ${request.sentThroughApiTo} not found`);
    }
    const all = (await this.views.interactions(doc, participants)).filter(
      (i) =>
        (!request.sid || i.sid === request.sid) &&
        (!request.sentThroughApiTo ||
          (i.interaction.message?.viaApi === true && i.outboundParticipantSid === request.sentThroughApiTo)),
    );
    const from = page * pageSize;
    return { interactions: all.slice(from, from + pageSize), more: all.length > from + pageSize };
  }

  /** Deletes one interaction's record; another's SID, or one already deleted, is not found. */
  async deleteInteraction(request: RpcParsedRequestOf<typeof DeleteProxyInteraction>): Promise<void> {
    const found = await this.interactions({ ...request, page: 0, pageSize: 1 });
    const interaction = found.interactions[0];
    if (!interaction) throw CodedError.notFound(`Interaction ${request.sid} not found`);
    await this.callEvents.deleteInteraction(
      interaction.accountId,
      sessionIdOfProxySid(interaction.sessionSid)!,
      interaction.interaction.callId,
    );
  }

  /** Where a message through the API to the participant goes: only while the session is open and texts. */
  async prepareMessage(request: RpcParsedRequestOf<typeof PrepareProxyMessage>) {
    const { scope } = request;
    const service = await this.services.get(scope, request.service);
    const doc = await this.require(scope, service, request.session);
    const participant = this.participants.list(doc).find((p) => p.sid === request.participantSid);
    if (!participant) throw CodedError.notFound(`Participant ${request.participantSid} not found`);
    if (doc.status === 'expired' || !hasNumber(doc)) {
      throw new CodedError(ProxyErrorCodes.SESSION_CLOSED, 'Session is closed: no message can be sent in it');
    }
    if (!modeNeeds(doc.proxy.mode).messages) {
      throw CodedError.validation('Body', `the Session's mode is ${doc.proxy.mode}: it relays no messages`);
    }
    return {
      accountId: doc.accountId,
      sessionId: doc._id,
      sessionSid: proxySessionSidOf(doc._id),
      serviceSid: service.sid,
      participantSid: participant.sid,
      virtualNumber: doc.virtualNumber,
      to: participant.identifier,
      direction: participant.slot === 1 ? ('second-to-first' as const) : ('first-to-second' as const),
    };
  }

  /**
   * Holds the name for the session. A hold is taken over only when it is certainly left over: no
   * session was ever stored under it and it is older than NAME_GRACE_MS (a create that died).
   */
  private async holdName(scope: AccountScope, serviceSid: string, name: string, sessionId: string) {
    if (await this.names.hold(scope.accountId, serviceSid, name, sessionId)) return true;
    const hold = await this.names.holder(scope.accountId, serviceSid, name);
    if (!hold) return this.names.hold(scope.accountId, serviceSid, name, sessionId);
    const stored = await this.sessions.getByIdSystemWide(hold.sessionId);
    if (stored || hold.createdAt.getTime() >= Date.now() - NAME_GRACE_MS) return false;
    await this.names.release(scope.accountId, serviceSid, name, hold.sessionId);
    return this.names.hold(scope.accountId, serviceSid, name, sessionId);
  }

  /** Ends the session as every session ends (its number and holds go back, the routers hear it). */
  private async close(
    scope: AccountScope,
    doc: ProxySessionDocument,
    wait: 'for its end' | 'no wait' = 'for its end',
  ): Promise<boolean> {
    await this.sessions.setProxyFields(scope, doc._id, { closedReason: 'api' });
    if (await this.expiry.expireNow(scope, doc._id, wait === 'no wait' ? { waitMs: 0 } : {})) return true;
    // Another replica holds its claim and did not finish within the wait: it will be closed.
    this.logger.info({ sessionId: doc._id }, 'Proxy session close already under way');
    return false;
  }

  /** `close`, for a request that answers the owner: closed when this returns (else 503, retryable). */
  private async closeForOwner(scope: AccountScope, doc: ProxySessionDocument): Promise<void> {
    if (!(await this.close(scope, doc))) throw endNotSeenInTime();
  }

  /**
   * A create whose session write the store did not answer (a command past its deadline, a dropped
   * connection) may still land. Its id is fenced, as the saga fences its own: never to land, its
   * live session is given back; landed, it is discarded, as its creation's error told its owner
   * (its end gives the live session back). When the fence cannot be asked either, the live-session
   * recount corrects the count, and a session that lands ends at its expiry.
   */
  private async settleUnanswered(scope: AccountScope, doc: ProxySessionDocument): Promise<void> {
    let stored;
    try {
      stored = await this.sessions.fenceCreationSystemWide({
        sessionId: doc._id,
        accountId: doc.accountId,
        subaccountId: doc.subaccountId,
        allocationId: null,
      });
    } catch (err) {
      this.logger.warn(
        { err, sessionId: doc._id },
        'a Proxy session write not answered, and its id not fenced: counted until the recount',
      );
      return;
    }
    if (!stored) return this.quota.giveBack(scope, 'Proxy session not stored');
    await this.discard(scope, doc).catch((err: unknown) =>
      this.logger.warn(
        { err, sessionId: doc._id },
        'a Proxy session stored after its create failed is left to expire',
      ),
    );
  }

  /** A create that failed part-way: closed, deleted, its name freed. */
  private async discard(scope: AccountScope, doc: ProxySessionDocument): Promise<void> {
    const live = await this.sessions.getLiveSystemWide(doc._id);
    const deletedAt = new Date();
    if (live && live.status === 'active') await this.close(scope, live as ProxySessionDocument, 'no wait');
    await this.sessions.markProxyDeleted(scope, doc._id, deletedAt);
    if (doc.proxy.uniqueName) {
      await this.names.release(scope.accountId, doc.proxy.serviceSid, doc.proxy.uniqueName, doc._id);
    }
  }

  /** The session id a `KC…` SID or a UniqueName of this Service's names; not found when neither. */
  private async sessionIdOf(scope: AccountScope, service: ProxyService, ref: string): Promise<string> {
    const sessionId =
      sessionIdOfProxySid(ref) ?? (await this.names.sessionNamed(scope.accountId, service.sid, ref));
    if (!sessionId) throw CodedError.notFound(`Session ${ref} not found`);
    return sessionId;
  }

  /** By `KC…` SID or by UniqueName, of this Service and owner; a deleted one is not found. */
  async require(scope: AccountScope, service: ProxyService, ref: string): Promise<ProxySessionDocument> {
    const doc = await this.sessions.get(scope, await this.sessionIdOf(scope, service, ref));
    if (!doc || !doc.proxy || doc.proxy.serviceSid !== service.sid || doc.proxy.deletedAt) {
      throw CodedError.notFound(`Session ${ref} not found`);
    }
    if (!sameHolder(doc.subaccountId, scope.subaccountId)) {
      throw CodedError.notFound(`Session ${ref} not found`);
    }
    return doc as ProxySessionDocument;
  }

  private requireStored(scope: AccountScope, service: ProxyService, sessionId: string) {
    return this.require(scope, service, proxySessionSidOf(sessionId));
  }

  /** As `require`, and still open: a closed session takes no participants. */
  async requireLive(scope: AccountScope, service: ProxyService, ref: string): Promise<ProxySessionDocument> {
    const doc = await this.require(scope, service, ref);
    if (doc.status === 'expired') {
      throw new CodedError(ProxyErrorCodes.SESSION_CLOSED, `Session ${ref} is closed`);
    }
    return doc;
  }
}

/** A DateExpiry must lie ahead. */
function futureDate(iso: string, now: Date): Date {
  const at = new Date(iso);
  if (at.getTime() <= now.getTime()) {
    throw CodedError.validation('DateExpiry', 'DateExpiry must be in the future');
  }
  return at;
}

/**
 * The engine's settings of a Proxy session: Plivo's defaults (no PIN, no single-party reach, no
 * callbacks of Plivo's kind), the mode's message relay, and the country geomatch every Proxy
 * geo-match level includes. `sessionExpirySeconds` is the engine's bookkeeping only (the expiry is
 * the Proxy facts'), kept within the engine's range.
 */
function engineSettings(facts: ProxySessionFacts, current = DEFAULT_SESSION_SETTINGS) {
  const range = SESSION_FIELDS.sessionExpirySeconds.kind;
  return {
    ...current,
    messageMasking: modeNeeds(facts.mode).messages,
    geomatch: true,
    sessionExpirySeconds: Math.min(Math.max(facts.ttl, range.min), range.max),
  };
}

/**
 * A create whose session the orphan reaper discarded before it finished (it ran past
 * ORPHAN_AGE_MS): not made, as the reaper took it; retryable (a 503, not a 404 naming a Session
 * its owner was never given).
 */
const createNotFinished = () =>
  new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the Session could not be created in time; retry', {
    retryable: true,
  });

const isNotFound = (err: unknown) => err instanceof CodedError && err.code === ErrorCodes.NOT_FOUND;
