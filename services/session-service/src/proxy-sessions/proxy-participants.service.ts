import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  mayHaveHappened,
  AddAllocationParty,
  AllocateNumber,
  CodedError,
  ErrorCodes,
  newTwilioSid,
  PoolErrorCodes,
  ProxyErrorCodes,
  ReleaseAllocation,
  modeNeeds,
  type AccountScope,
  type ParticipantRequest,
  type ProxyService,
} from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { WRITE_CALL } from '../config/write-call';
import { ExpiryScheduler } from '../expiry/expiry-scheduler';
import { PartyRedaction } from '../privacy/party-redaction';
import { SagaStepsRepository } from '../saga/saga-steps.repository';
import { AllocationFates } from '../saga/allocation-fates.repository';
import { ownNumberRefusal } from '../sessions/own-number-refusal';
import { SessionAnnouncer, hasNumber, type NumberedSession } from '../sessions/session-announcer';
import { SessionRepository, firstJoinGuard, secondJoinGuard } from '../sessions/session.repository';
import { UnannouncedUpdates } from '../sessions/unannounced-updates.repository';
import type {
  ProxyParticipantFacts,
  ProxySessionDocument,
  SessionDocument,
} from '../sessions/session.schema';
import { ProxyParticipantRepository } from './proxy-participant.repository';
import { ProxyStickyNumbers } from './proxy-sticky-numbers';
import { changeTime } from '../sessions/session-write-turns';

/** How old a place whose participant never joined must be before another add may take it. */
const STALE_PLACE_MS = 60_000;
/** Announcing a session that holds its number: tries before it is ended rather than left unannounced. */
const ANNOUNCE_TRIES = 3;

/** A participant that joined: its facts and its number. */
export interface JoinedParticipant extends ProxyParticipantFacts {
  identifier: string;
  proxyIdentifier: string;
}

/**
 * Adds a participant to a Proxy session. Its place is an insert (slot 1 or 2, unique per session,
 * and an identifier once per session): slot 1 takes a number from the Service's numbers for the
 * session (the allocator's one-party-one-number rule, shared with the Plivo API); slot 2 joins
 * that number. Once the session holds the number it is never given back by a failure here: the
 * announcement is retried, and if it cannot be made the session is ended as every session ends.
 * A failure before that gives back what was taken; a crash leaves its allocation step for the
 * orphan reaper and its place to be taken over after STALE_PLACE_MS.
 */
@Injectable()
export class ProxyParticipantsService {
  constructor(
    private readonly places: ProxyParticipantRepository,
    private readonly sessions: SessionRepository,
    private readonly steps: SagaStepsRepository,
    private readonly fates: AllocationFates,
    private readonly sticky: ProxyStickyNumbers,
    private readonly announcer: SessionAnnouncer,
    private readonly expiry: ExpiryScheduler,
    private readonly redaction: PartyRedaction,
    private readonly rpc: RpcClient,
    private readonly unannounced: UnannouncedUpdates,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async add(
    scope: AccountScope,
    service: ProxyService,
    doc: ProxySessionDocument,
    request: ParticipantRequest,
    /** A Session create's participant: its first one's step is left for the create (`finishCreate`). */
    options: { inCreate?: boolean } = {},
  ): Promise<JoinedParticipant> {
    const place = await this.takePlace(doc, request.identifier);
    const facts: ProxyParticipantFacts = {
      sid: place.sid,
      slot: place.slot,
      friendlyName: request.friendlyName,
      createdAt: new Date(),
    };
    let joined: NumberedSession;
    try {
      joined =
        place.slot === 1
          ? await this.allocateFirst(scope, service, doc, request, facts, options.inCreate === true)
          : await this.joinSecond(scope, doc, request, facts);
    } catch (err) {
      // Its write may have landed: the place stays its (a later add joins as second, or takes the
      // place over once stale, if it did not), and the orphan reaper settles the number.
      if (err instanceof JoinOutcomeUnknown) throw err.cause;
      await this.places.remove(doc.accountId, place.sid);
      throw err;
    }
    await this.announce(scope, joined, place.slot === 1 ? 'created' : 'updated');
    // Announced: the first participant's number is the session's for everyone; its add's step goes
    // (the orphan reaper announces a session whose add died before this), unless a create's, which
    // the create forgets once it has all its participants (`finishCreate`). The second's note goes
    // (the unannounced-update sweep announces a session whose add did not get this far).
    if (place.slot === 2) await this.unannounced.forget(doc.accountId, doc._id).catch(() => undefined);
    else if (!options.inCreate) {
      await this.steps
        .forgetStep(scope, { sessionId: doc._id, kind: 'allocation', ref: joined.allocationId })
        .catch(() => undefined);
    }
    await this.sticky
      .remember(doc.accountId, service.sid, request.identifier, joined.virtualNumber)
      .catch((err: unknown) => this.logger.warn({ err }, 'could not remember a sticky proxy number'));
    return { ...facts, identifier: request.identifier, proxyIdentifier: joined.virtualNumber };
  }

  /**
   * A Session create has all its participants: the step its first one's add left (`inCreate`) goes,
   * in the session's turn, before the create answers. Throws when it could not be forgotten: the
   * create then fails (and discards the session), as the orphan reaper ends a session whose create
   * left such a step (its owner answered an error).
   */
  async finishCreate(scope: AccountScope, sessionId: string): Promise<void> {
    await this.steps.forgetSession(scope, sessionId);
  }

  /** The session's participants that joined, by slot. */
  list(doc: SessionDocument): JoinedParticipant[] {
    const parties = { 1: doc.firstParty, 2: doc.secondParty } as const;
    return (doc.proxy?.participants ?? [])
      .filter((p) => parties[p.slot] && doc.virtualNumber)
      .sort((a, b) => a.slot - b.slot)
      .map((p) => ({ ...p, identifier: parties[p.slot]!, proxyIdentifier: doc.virtualNumber! }));
  }

  /**
   * The participant's place: the first free slot. Refused when the identifier is in the session,
   * both slots are held, or another add is under way; a place whose participant never joined and
   * is older than STALE_PLACE_MS is taken over.
   */
  private async takePlace(doc: ProxySessionDocument, identifier: string) {
    const identifierDigest = this.redaction.redact(doc.accountId, identifier);
    for (let round = 0; round < 2; round++) {
      for (const slot of [1, 2] as const) {
        const sid = newTwilioSid('KP');
        if (
          await this.places.take({
            _id: sid,
            accountId: doc.accountId,
            sessionId: doc._id,
            slot,
            identifierDigest,
          })
        ) {
          return { sid, slot };
        }
      }
      // Refused: say why, from the session as stored now.
      const current = await this.sessions.get({ accountId: doc.accountId }, doc._id);
      const parties = [current?.firstParty, current?.secondParty];
      if (parties.includes(identifier)) {
        throw participantExists(identifier);
      }
      if (parties[0] && parties[1]) {
        throw participantLimit();
      }
      // A place held by a participant that has not joined: under way, or left by a failed add.
      const held = await this.places.ofSession(doc.accountId, doc._id);
      const stale = held.filter(
        (p) => !parties[p.slot - 1] && p.createdAt.getTime() < Date.now() - STALE_PLACE_MS,
      );
      if (stale.length === 0) break;
      for (const p of stale) await this.places.remove(doc.accountId, p._id);
    }
    throw new CodedError(
      ProxyErrorCodes.PARTICIPANT_BUSY,
      'another participant of this Session is being added; retry when it is',
      { retryable: true },
    );
  }

  /** The session's number, from the Service's numbers, held for the first participant. */
  private async allocateFirst(
    scope: AccountScope,
    service: ProxyService,
    doc: ProxySessionDocument,
    request: ParticipantRequest,
    facts: ProxyParticipantFacts,
    forCreate: boolean,
  ): Promise<NumberedSession> {
    const behaviour = service.numberSelectionBehavior;
    const previous = await this.sticky
      .previous(doc.accountId, service.sid, request.identifier)
      .catch(() => null);
    const allocationId = randomUUID();
    await this.steps.record({
      sessionId: doc._id,
      accountId: doc.accountId,
      subaccountId: doc.subaccountId,
      kind: 'allocation',
      ref: allocationId,
      ...(forCreate ? { forCreate: true } : {}),
    });
    let allocated = false;
    /** The session write was sent and failed without an answer that says it did not land. */
    let writeUnanswered = false;
    /** The session write landed: nothing given back after it. */
    let stored = false;
    const fenceAsRead = doc.joinFence ?? null;
    try {
      const { virtualNumber } = await this.rpc
        .request(
          AllocateNumber,
          {
            scope,
            allocationId,
            parties: [request.identifier],
            geomatch: true,
            cooloffSeconds: 0,
            excludeNumbers: [],
            needs: modeNeeds(doc.proxy.mode).needs,
            proxy: {
              serviceSid: service.sid,
              pinned: request.proxyIdentifier,
              areaCode: service.geoMatchLevel !== 'country',
              prefer: behaviour === 'prefer-sticky' && previous ? [previous] : [],
              avoid: behaviour === 'avoid-sticky' && previous ? [previous] : [],
            },
          },
          WRITE_CALL,
        )
        .catch((err: unknown) => {
          throw inProxyTerms(err, request.identifier, request.proxyIdentifier);
        });
      allocated = true;
      // Kept, unless the orphan reaper judged this add dead and gave the allocation back first.
      if (!(await this.fates.decide(doc.accountId, allocationId, 'kept'))) {
        allocated = false;
        throw new CodedError(ErrorCodes.ABANDONED, 'the participant could not be added in time; retry', {
          retryable: true,
        });
      }
      const now = changeTime(doc);
      const engine: Partial<SessionDocument> = {
        virtualNumber,
        allocationId,
        firstParty: request.identifier,
        modifiedAt: now,
      };
      // Only while the session has no number and no fence came since it was read: a write that
      // failed may then be fenced before the number goes back (below).
      const written = await this.sessions
        .setProxyFields(scope, doc._id, { participants: [facts] }, engine, firstJoinGuard(fenceAsRead))
        .catch((writeErr: unknown) => {
          writeUnanswered = true;
          throw writeErr;
        });
      if (!written) {
        const refused = await this.refusedFirstJoin(scope, doc._id, allocationId);
        // Refused, yet the session holds this add's number: it landed after all (a retried write).
        if (refused.kind === 'stored') {
          stored = true;
          return refused.session;
        }
        // The session's with this add's number, but ended since: its end gives the number back.
        if (refused.kind === 'ended-holding') stored = true;
        // Not read: as for a write not answered, nothing is given back before the write is fenced.
        if (refused.kind === 'unread') writeUnanswered = true;
        throw refused.error;
      }
      stored = true;
      return { ...doc, ...engine, proxy: { ...doc.proxy, participants: [facts] } } as NumberedSession;
    } catch (err) {
      // Stored: the session holds the number, whatever failed after.
      if (stored) throw err;
      // A session write that failed may have landed, or land later: the number goes back only once
      // it is fenced, or seen not to be this allocation's (else two sessions could hold one pair).
      if (writeUnanswered) {
        const look = await this.afterUnansweredFirstJoin(scope, doc._id, fenceAsRead, allocationId);
        // It landed: the participant joined (announced by `add`), the number is the session's.
        if (look.kind === 'stored') return look.session;
        if (look.kind === 'ended') {
          throw sessionClosed();
        }
        if (look.kind === 'unknown') throw new JoinOutcomeUnknown(err);
      }
      // Not stored (or the session ended meanwhile): the number goes back, or the reaper gives it back.
      // Abandoned: the orphan reaper gives the allocation back too; released here as well, in case its release failed.
      if (
        allocated ||
        mayHaveHappened(err) ||
        (err instanceof CodedError && err.code === ErrorCodes.ABANDONED)
      ) {
        await this.rpc
          .request(ReleaseAllocation, { scope, allocationId }, WRITE_CALL)
          .catch((release: unknown) =>
            this.logger.warn({ err: release }, 'allocation left for the orphan reaper'),
          );
      }
      throw err;
    }
  }

  /**
   * After the write of a session's first participant and number failed without saying whether it
   * landed: `give-back` when it never will (fenced) or the session shows another allocation;
   * `stored` when the session holds this one (the write landed); `unknown` when neither can be told
   * (the number is then left to the orphan reaper, which fences the write itself before it gives the
   * number back).
   */
  private async afterUnansweredFirstJoin(
    scope: AccountScope,
    sessionId: string,
    fenceAsRead: string | null,
    allocationId: string,
  ): Promise<{ kind: 'give-back' | 'unknown' | 'ended' } | { kind: 'stored'; session: NumberedSession }> {
    try {
      if (await this.sessions.fenceFirstJoin(scope, sessionId, fenceAsRead)) return { kind: 'give-back' };
      const session = await this.sessions.get(scope, sessionId);
      if (session?.allocationId !== allocationId || !hasNumber(session)) return { kind: 'give-back' };
      // It landed on a session that has ended since: its end gives the number back.
      return session.status === 'active' ? { kind: 'stored', session } : { kind: 'ended' };
    } catch (err) {
      this.logger.warn(
        { err, sessionId },
        'a participant whose session write failed may have joined: its number is left to the orphan reaper',
      );
      return { kind: 'unknown' };
    }
  }

  /**
   * Why the write of a session's first participant was refused (it did not land): the session
   * closed, or it is live and another add gave it a number or fenced this one (the orphan reaper
   * judged this add dead): then a retry may join.
   */
  private async refusedFirstJoin(
    scope: AccountScope,
    sessionId: string,
    allocationId: string,
  ): Promise<
    | { kind: 'stored'; session: NumberedSession }
    | { kind: 'busy' | 'closed' | 'ended-holding' | 'unread'; error: CodedError }
  > {
    const busy = participantsChanged();
    const closed = sessionClosed();
    const current = await this.sessions.get(scope, sessionId).catch(() => undefined);
    // Not read (the store away): retryable, as the refusal may have been anything.
    if (current === undefined) return { kind: 'unread', error: busy };
    const holding = !!current && current.allocationId === allocationId && hasNumber(current);
    if (current?.status !== 'active') return { kind: holding ? 'ended-holding' : 'closed', error: closed };
    return holding ? { kind: 'stored', session: current as NumberedSession } : { kind: 'busy', error: busy };
  }

  /**
   * The second participant joins the session's number (the two share it). Its write is noted first
   * (`UnannouncedUpdates`): one that lands without this add knowing (its answer lost, then the look
   * after it) is announced by the sweep, and the session never holds a party its routers do not.
   */
  private async joinSecond(
    scope: AccountScope,
    doc: ProxySessionDocument,
    request: ParticipantRequest,
    facts: ProxyParticipantFacts,
  ): Promise<NumberedSession> {
    const current = await this.sessions.get(scope, doc._id);
    if (!current || current.status !== 'active') {
      throw sessionClosed();
    }
    if (!hasNumber(current)) {
      throw new CodedError(
        ProxyErrorCodes.PARTICIPANT_BUSY,
        'the Session’s first participant is still being added; retry when it is',
        { retryable: true },
      );
    }
    if (request.proxyIdentifier && request.proxyIdentifier !== current.virtualNumber) {
      throw new CodedError(
        ProxyErrorCodes.PROXY_IDENTIFIER_IN_USE,
        `ProxyIdentifier: Maskline gives both participants of a Session one proxy number, and this Session’s is ${current.virtualNumber}`,
        { field: 'ProxyIdentifier' },
      );
    }
    await this.rpc
      .request(
        AddAllocationParty,
        { scope, allocationId: current.allocationId, party: request.identifier },
        WRITE_CALL,
      )
      .catch((err: unknown) => {
        throw inProxyTerms(err, request.identifier, current.virtualNumber);
      });
    const now = changeTime(current);
    const participants = [...(current.proxy?.participants ?? []), facts];
    const engine = { secondParty: request.identifier, modifiedAt: now };
    const fenceAsRead = current.joinFence ?? null;
    await this.unannounced.note(doc.accountId, doc._id);
    let written: boolean;
    try {
      // Only while the session has no second party and no fence came since it was read.
      written = await this.sessions.setProxyFields(
        scope,
        doc._id,
        { participants },
        engine,
        secondJoinGuard(fenceAsRead),
      );
    } catch (err) {
      return this.afterUnansweredSecondJoin(scope, doc._id, fenceAsRead, request.identifier, facts.sid, err);
    }
    if (written) return { ...current, ...engine, proxy: { ...current.proxy!, participants } };
    // Refused: it did not land, or a retry of it was refused after it had (the session then shows it).
    const stored = await this.sessions.get(scope, doc._id).catch(() => undefined);
    if (stored === undefined) {
      const unread = new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the store is unavailable', {
        retryable: true,
      });
      return this.afterUnansweredSecondJoin(
        scope,
        doc._id,
        fenceAsRead,
        request.identifier,
        facts.sid,
        unread,
      );
    }
    return secondJoinOutcome(stored, request.identifier, facts.sid);
  }

  /**
   * After the write of a session's second participant failed without saying whether it landed: it
   * is fenced (never to land) or read. Landed, the participant joined (announced by `add`);
   * neither told, its outcome is unknown (its place is kept, and its note has the sweep announce it
   * if it landed).
   */
  private async afterUnansweredSecondJoin(
    scope: AccountScope,
    sessionId: string,
    fenceAsRead: string | null,
    identifier: string,
    sid: string,
    err: unknown,
  ): Promise<NumberedSession> {
    let stored: SessionDocument | null;
    try {
      if (await this.sessions.fenceSecondJoin(scope, sessionId, fenceAsRead)) throw err;
      stored = await this.sessions.get(scope, sessionId);
    } catch (lookErr) {
      if (lookErr === err) throw err;
      this.logger.warn(
        { err: lookErr, sessionId },
        'a second participant whose session write failed may have joined: announced by the sweep if it did',
      );
      throw new JoinOutcomeUnknown(err);
    }
    return secondJoinOutcome(stored, identifier, sid);
  }

  /**
   * Tells the routers. The session holds its number from here on: an announcement that cannot be
   * made ends the session (its expiry releases the number and announces the end) rather than
   * leaving a session the routers do not know.
   */
  private async announce(scope: AccountScope, doc: NumberedSession, kind: 'created' | 'updated') {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.announcer[kind](doc, doc.modifiedAt);
        return;
      } catch (err) {
        if (attempt < ANNOUNCE_TRIES) continue;
        this.logger.warn({ err, sessionId: doc._id }, 'Proxy session not announced: ending it');
        await this.expiry.endNow(scope, doc._id);
        throw new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the participant could not be added; retry', {
          retryable: true,
          cause: err,
        });
      }
    }
  }
}

/** The pool's refusals, in Proxy's words where Proxy has some. */
function inProxyTerms(err: unknown, identifier: string, number: string | null): unknown {
  if (!(err instanceof CodedError)) return err;
  if (err.code === PoolErrorCodes.PARTY_IS_VIRTUAL_NUMBER) return ownNumberRefusal(err, () => 'Identifier');
  if (err.code === PoolErrorCodes.PARTY_CONFLICT) {
    return new CodedError(
      ProxyErrorCodes.PROXY_IDENTIFIER_IN_USE,
      `${identifier} already has proxy number ${number ?? 'that number'} in another open Session`,
      { field: 'Identifier' },
    );
  }
  return err;
}

/**
 * The session a second participant's write left, read after the write was refused or went
 * unanswered: the participant joined when the session shows it (this add's place) and is live;
 * otherwise why it could not join.
 */
function secondJoinOutcome(stored: SessionDocument | null, identifier: string, sid: string): NumberedSession {
  if (!stored || stored.status !== 'active') {
    throw sessionClosed();
  }
  const landed =
    stored.secondParty === identifier && (stored.proxy?.participants ?? []).some((p) => p.sid === sid);
  if (landed && hasNumber(stored)) return stored;
  // Another add's write landed first (one whose answer was lost, its place since given up).
  if (stored.secondParty === identifier) throw participantExists(identifier);
  if (stored.secondParty) throw participantLimit();
  throw participantsChanged();
}

const sessionClosed = () => new CodedError(ProxyErrorCodes.SESSION_CLOSED, 'Session is closed');
const participantExists = (identifier: string) =>
  new CodedError(
    ProxyErrorCodes.PARTICIPANT_EXISTS,
    `Identifier: ${identifier} is already a participant in the Session`,
    { field: 'Identifier' },
  );
const participantsChanged = () =>
  new CodedError(
    ProxyErrorCodes.PARTICIPANT_BUSY,
    'the Session’s participants changed while this one was being added; retry',
    { retryable: true },
  );
const participantLimit = () =>
  new CodedError(ProxyErrorCodes.PARTICIPANT_LIMIT, 'A Session may have at most 2 participants', {
    field: 'Identifier',
  });

/** A participant's session write whose outcome could not be told: its place is kept. */
class JoinOutcomeUnknown extends Error {
  constructor(override readonly cause: unknown) {
    super('the participant’s session write may have landed');
  }
}
