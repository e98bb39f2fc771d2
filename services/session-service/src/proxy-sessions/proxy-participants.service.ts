import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  AddAllocationParty,
  AllocateNumber,
  CodedError,
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
import { SagaStepsRepository } from '../saga/saga-steps.repository';
import { SessionAnnouncer, hasNumber } from '../sessions/session-announcer';
import { SessionRepository } from '../sessions/session.repository';
import type { ProxySessionFacts, SessionDocument } from '../sessions/session.schema';
import type { ProxyParticipantDocument } from './proxy-participant.schema';
import { ProxyParticipantRepository } from './proxy-participant.repository';
import { ProxyStickyNumbers } from './proxy-sticky-numbers';

type ProxySessionDocument = SessionDocument & { proxy: ProxySessionFacts };

/**
 * Adds a participant to a Proxy session. Its slot is its insert (1 or 2, unique per session, and
 * an identifier once per session): slot 1 takes a number from the Service's numbers for the
 * session (the allocator's one-party-one-number rule, shared with the Plivo API); slot 2 joins
 * that number. What fails part-way is given back, and a crash leaves its allocation step for the
 * orphan reaper, as a Plivo creation does.
 */
@Injectable()
export class ProxyParticipantsService {
  constructor(
    private readonly participants: ProxyParticipantRepository,
    private readonly sessions: SessionRepository,
    private readonly steps: SagaStepsRepository,
    private readonly sticky: ProxyStickyNumbers,
    private readonly announcer: SessionAnnouncer,
    private readonly rpc: RpcClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async add(
    scope: AccountScope,
    service: ProxyService,
    doc: ProxySessionDocument,
    request: ParticipantRequest,
  ): Promise<ProxyParticipantDocument> {
    const participant = await this.takeSlot(doc, request);
    try {
      const number =
        participant.slot === 1
          ? await this.allocateFirst(scope, service, doc, participant, request.proxyIdentifier)
          : await this.joinSecond(scope, doc, participant, request.proxyIdentifier);
      await this.participants.setProxyIdentifier(doc.accountId, participant._id, number);
      await this.sticky
        .remember(doc.accountId, service.sid, participant.identifier, number)
        .catch((err: unknown) => this.logger.warn({ err }, 'could not remember a sticky proxy number'));
      return { ...participant, proxyIdentifier: number };
    } catch (err) {
      await this.participants.remove(doc.accountId, participant._id);
      throw err;
    }
  }

  async list(accountId: string, sessionId: string): Promise<ProxyParticipantDocument[]> {
    // A participant still being added (no number yet) is not shown.
    return (await this.participants.ofSession(accountId, sessionId)).filter((p) => p.proxyIdentifier);
  }

  /** The participant's slot: the first free one; refused when the identifier is in already, or both are taken. */
  private async takeSlot(doc: ProxySessionDocument, request: ParticipantRequest) {
    for (const slot of [1, 2] as const) {
      const participant: Omit<ProxyParticipantDocument, 'createdAt' | 'updatedAt'> = {
        _id: newTwilioSid('KP'),
        accountId: doc.accountId,
        sessionId: doc._id,
        slot,
        identifier: request.identifier,
        friendlyName: request.friendlyName,
        proxyIdentifier: null,
      };
      if (await this.participants.take(participant)) {
        return { ...participant, createdAt: new Date(), updatedAt: new Date() };
      }
      const present = await this.participants.ofSession(doc.accountId, doc._id);
      if (present.some((p) => p.identifier === request.identifier)) {
        throw new CodedError(
          ProxyErrorCodes.PARTICIPANT_EXISTS,
          `Identifier: ${request.identifier} is already a participant in the Session`,
          { field: 'Identifier' },
        );
      }
    }
    throw new CodedError(ProxyErrorCodes.PARTICIPANT_LIMIT, 'A Session may have at most 2 participants', {
      field: 'Identifier',
    });
  }

  /** The session's number, from the Service's numbers, held for the first participant. */
  private async allocateFirst(
    scope: AccountScope,
    service: ProxyService,
    doc: ProxySessionDocument,
    participant: ProxyParticipantDocument,
    pinned: string | null,
  ): Promise<string> {
    const previous =
      service.numberSelectionBehavior === 'prefer-sticky' ||
      service.numberSelectionBehavior === 'avoid-sticky'
        ? await this.sticky.previous(doc.accountId, service.sid, participant.identifier).catch(() => null)
        : null;
    const allocationId = randomUUID();
    await this.steps.record({
      sessionId: doc._id,
      accountId: doc.accountId,
      subaccountId: doc.subaccountId,
      kind: 'allocation',
      ref: allocationId,
    });
    let allocated = false;
    try {
      const { virtualNumber } = await this.rpc
        .request(
          AllocateNumber,
          {
            scope,
            allocationId,
            parties: [participant.identifier],
            geomatch: true,
            cooloffSeconds: 0,
            excludeNumbers: [],
            needs: modeNeeds(doc.proxy.mode).needs,
            proxy: {
              serviceSid: service.sid,
              pinned,
              areaCode: service.geoMatchLevel !== 'country',
              prefer: service.numberSelectionBehavior === 'prefer-sticky' && previous ? [previous] : [],
              avoid: service.numberSelectionBehavior === 'avoid-sticky' && previous ? [previous] : [],
            },
          },
          WRITE_CALL,
        )
        .catch((err: unknown) => {
          throw pinnedRefusal(err, participant, pinned ?? undefined);
        });
      allocated = true;
      const now = new Date();
      const set: Partial<SessionDocument> = {
        virtualNumber,
        allocationId,
        firstParty: participant.identifier,
        modifiedAt: now,
      };
      if (!(await this.sessions.updateActive(scope, doc._id, set))) {
        throw new CodedError(ProxyErrorCodes.SESSION_CLOSED, 'Session is closed');
      }
      const stored = { ...doc, ...set } as SessionDocument;
      if (hasNumber(stored)) await this.announcer.created(stored, now);
      await this.steps.forgetSession(scope, doc._id).catch(() => undefined);
      return virtualNumber;
    } catch (err) {
      if (allocated) {
        await this.rpc
          .request(ReleaseAllocation, { scope, allocationId }, WRITE_CALL)
          .catch((release: unknown) =>
            this.logger.warn({ err: release }, 'allocation left for the orphan reaper'),
          );
      }
      throw err;
    }
  }

  /** The second participant joins the session's number (the two share it). */
  private async joinSecond(
    scope: AccountScope,
    doc: ProxySessionDocument,
    participant: ProxyParticipantDocument,
    pinned: string | null,
  ): Promise<string> {
    const current = await this.sessions.get(scope, doc._id);
    if (!current || current.status !== 'active') {
      throw new CodedError(ProxyErrorCodes.SESSION_CLOSED, 'Session is closed');
    }
    if (!hasNumber(current)) {
      throw new CodedError(
        ProxyErrorCodes.PARTICIPANT_BUSY,
        'the Session’s first participant is still being added; retry when it is',
        { retryable: true },
      );
    }
    if (pinned && pinned !== current.virtualNumber) {
      throw new CodedError(
        ProxyErrorCodes.PROXY_IDENTIFIER_IN_USE,
        `ProxyIdentifier: Maskline gives both participants of a Session one proxy number, and this Session’s is ${current.virtualNumber}`,
        { field: 'ProxyIdentifier' },
      );
    }
    await this.rpc
      .request(AddAllocationParty, {
        scope,
        allocationId: current.allocationId,
        party: participant.identifier,
      })
      .catch((err: unknown) => {
        throw pinnedRefusal(err, participant, current.virtualNumber);
      });
    const now = new Date();
    if (
      !(await this.sessions.updateActive(scope, doc._id, {
        secondParty: participant.identifier,
        modifiedAt: now,
      }))
    ) {
      throw new CodedError(ProxyErrorCodes.SESSION_CLOSED, 'Session is closed');
    }
    await this.announcer.updated({ ...current, secondParty: participant.identifier, modifiedAt: now }, now);
    return current.virtualNumber;
  }
}

/** The pool's refusals, in Proxy's words where Proxy has some. */
function pinnedRefusal(err: unknown, participant: ProxyParticipantDocument, number?: string): unknown {
  if (!(err instanceof CodedError)) return err;
  if (err.code === PoolErrorCodes.PARTY_CONFLICT) {
    return new CodedError(
      ProxyErrorCodes.PROXY_IDENTIFIER_IN_USE,
      `${participant.identifier} already has proxy number ${number ?? 'that number'} in another open Session`,
      { field: 'Identifier' },
    );
  }
  return err;
}
