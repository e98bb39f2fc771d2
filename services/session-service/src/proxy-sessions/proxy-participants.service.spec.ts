import pino from 'pino';
import {
  AllocateNumber,
  CodedError,
  ErrorCodes,
  ProxyErrorCodes,
  ReleaseAllocation,
  type ParticipantRequest,
  type ProxyService,
} from '@maskline/contracts';
import type { RpcClient } from '@maskline/messaging';
import type { ExpiryScheduler } from '../expiry/expiry-scheduler';
import type { PartyRedaction } from '../privacy/party-redaction';
import type { AllocationFates } from '../saga/allocation-fates.repository';
import type { SagaStepsRepository } from '../saga/saga-steps.repository';
import type { SessionAnnouncer } from '../sessions/session-announcer';
import type { SessionRepository } from '../sessions/session.repository';
import type { SessionDocument } from '../sessions/session.schema';
import type { UnannouncedUpdates } from '../sessions/unannounced-updates.repository';
import type { ProxyParticipantRepository } from './proxy-participant.repository';
import { ProxyParticipantsService } from './proxy-participants.service';
import type { ProxyStickyNumbers } from './proxy-sticky-numbers';

const SCOPE = { accountId: 'MAAAAAAAAAAAAAAAAAA1' };
const SERVICE = {
  sid: 'KS00000000000000000000000000000001',
  numberSelectionBehavior: 'prefer-sticky',
} as ProxyService;
const SESSION_ID = '0195b7a1-1111-7222-8333-444455556666';
const NUMBER = '+14155550100';
const FIRST = '+16285550001';
/** The session's join fence as the add reads it (an earlier add's fence changed it). */
const FENCE = 'f0';

/** The session as stored once this add's write landed (`allocationId` its allocation's). */
const joinedSession = (allocationId: string, status: 'active' | 'expired' = 'active') => ({
  _id: SESSION_ID,
  accountId: SCOPE.accountId,
  status,
  virtualNumber: NUMBER,
  allocationId,
  firstParty: FIRST,
  modifiedAt: new Date('2026-12-07T00:00:01Z'),
});

/** The service under test, over the given parts (the rest inert). */
function participantsService(parts: {
  places: unknown;
  sessions: unknown;
  rpc: unknown;
  announcer: unknown;
  steps?: unknown;
  fates?: unknown;
  unannounced?: unknown;
}) {
  return new ProxyParticipantsService(
    parts.places as ProxyParticipantRepository,
    parts.sessions as SessionRepository,
    (parts.steps ?? {}) as SagaStepsRepository,
    (parts.fates ?? {}) as AllocationFates,
    {
      previous: jest.fn(async () => null),
      remember: jest.fn(async () => undefined),
    } as unknown as ProxyStickyNumbers,
    parts.announcer as SessionAnnouncer,
    {} as ExpiryScheduler,
    { redact: () => 'digest' } as unknown as PartyRedaction,
    parts.rpc as RpcClient,
    (parts.unannounced ?? {}) as UnannouncedUpdates,
    pino({ level: 'silent' }),
  );
}

/**
 * The first participant of a Proxy session: its number is allocated, then the session written with
 * it. `write` is what the store answers that write; `fence` what fencing it finds; `stored` what a
 * read of the session finds then (given this add's allocation id).
 */
function firstParticipant(world: {
  write: () => Promise<boolean>;
  fence?: () => Promise<boolean>;
  stored?: (allocationId: string) => Promise<Partial<SessionDocument> | null>;
  /** A Session create's participant. */
  inCreate?: boolean;
  /** Forgetting the add's step fails. */
  forgetFails?: boolean;
}) {
  const asked: string[] = [];
  let allocationId = '';
  const rpc = {
    request: jest.fn(async (contract: { subject: string }, payload: { allocationId: string }) => {
      asked.push(contract.subject);
      if (contract.subject === AllocateNumber.subject) {
        allocationId = payload.allocationId;
        return { virtualNumber: NUMBER, country: 'US' };
      }
      return { released: 1 };
    }),
  } as unknown as RpcClient;
  const sessions = {
    setProxyFields: jest.fn(world.write),
    fenceFirstJoin: jest.fn(world.fence ?? (async () => true)),
    get: jest.fn(async () => (world.stored ? world.stored(allocationId) : null)),
  } as unknown as SessionRepository;
  const places = {
    take: jest.fn(async () => true),
    remove: jest.fn(async () => undefined),
  };
  const steps = {
    record: jest.fn(async () => undefined),
    forgetStep: jest.fn(async () => {
      if (world.forgetFails) throw new Error('the store is unavailable');
    }),
  };
  // The add keeps its allocation (the orphan reaper did not take it first).
  const fates = { decide: jest.fn(async (_a: string, _id: string, fate: string) => fate === 'kept') };
  const announcer = { created: jest.fn(async () => undefined) };
  const service = participantsService({ places, sessions, steps, fates, announcer, rpc });
  const add = () =>
    service
      .add(
        SCOPE,
        SERVICE,
        {
          _id: SESSION_ID,
          accountId: SCOPE.accountId,
          proxy: { mode: 'voice-and-message' },
          joinFence: FENCE,
          createdAt: new Date('2026-12-07T00:00:00Z'),
          modifiedAt: new Date('2026-12-07T00:00:00Z'),
        } as never,
        { identifier: FIRST, proxyIdentifier: null } as unknown as ParticipantRequest,
        { inCreate: world.inCreate },
      )
      .catch((err: unknown) => err);
  return { add, asked, sessions, places, steps, announcer, allocation: () => allocationId };
}

describe('ProxyParticipantsService: a Session create’s first participant', () => {
  it('is recorded as a create’s step and left for the create to forget once it has all its participants (the reaper ends a session whose create left it)', async () => {
    const world = firstParticipant({ write: async () => true, inCreate: true });
    expect(await world.add()).toMatchObject({ identifier: FIRST });
    expect(world.steps.record).toHaveBeenCalledWith(expect.objectContaining({ forCreate: true }));
    expect(world.steps.forgetStep).not.toHaveBeenCalled();
    // A later add's step is not a create's, and goes once its session is announced (a step it cannot
    // forget is left to the reaper, which announces).
    const later = firstParticipant({ write: async () => true, forgetFails: true });
    expect(await later.add()).toMatchObject({ identifier: FIRST });
    expect(later.steps.record).toHaveBeenCalledWith(expect.not.objectContaining({ forCreate: true }));
    expect(later.steps.forgetStep).toHaveBeenCalled();
  });
});

describe('ProxyParticipantsService: a first participant whose session write fails', () => {
  const unavailable = () =>
    new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the store is unavailable', { retryable: true });
  const failing = async (): Promise<boolean> => {
    throw unavailable();
  };

  it('gives the number back once the write is fenced (it can never land later)', async () => {
    const world = firstParticipant({ write: failing, fence: async () => true });
    expect(await world.add()).toMatchObject({ code: ErrorCodes.DEPENDENCY_UNAVAILABLE });
    // Written only while the session has no number and its fence is as read; fenced with the same.
    expect(world.sessions.setProxyFields).toHaveBeenCalledWith(
      SCOPE,
      SESSION_ID,
      expect.anything(),
      expect.objectContaining({ virtualNumber: NUMBER, firstParty: FIRST }),
      { virtualNumber: null, joinFence: FENCE },
    );
    expect(world.sessions.fenceFirstJoin).toHaveBeenCalledWith(SCOPE, SESSION_ID, FENCE);
    expect(world.asked).toEqual([AllocateNumber.subject, ReleaseAllocation.subject]);
    expect(world.places.remove).toHaveBeenCalled();
  });

  it('joins when the write landed after all: the number kept, the session announced, the place and only this add’s step forgotten', async () => {
    const world = firstParticipant({
      write: failing,
      fence: async () => false,
      stored: async (allocationId) => joinedSession(allocationId),
    });
    expect(await world.add()).toMatchObject({ identifier: FIRST, proxyIdentifier: NUMBER });
    expect(world.asked).toEqual([AllocateNumber.subject]);
    expect(world.announcer.created).toHaveBeenCalledWith(
      expect.objectContaining({ allocationId: world.allocation() }),
      expect.anything(),
    );
    expect(world.places.remove).not.toHaveBeenCalled();
    expect(world.steps.forgetStep).toHaveBeenCalledWith(SCOPE, {
      sessionId: SESSION_ID,
      kind: 'allocation',
      ref: world.allocation(),
    });
  });

  it('gives the number back when the session shows another allocation, and leaves it to the orphan reaper when nothing can be told', async () => {
    const other = firstParticipant({
      write: failing,
      fence: async () => false,
      stored: async () => ({ status: 'active', virtualNumber: NUMBER, allocationId: 'another' }),
    });
    await other.add();
    expect(other.asked).toEqual([AllocateNumber.subject, ReleaseAllocation.subject]);

    const unknown = firstParticipant({
      write: failing,
      fence: async () => {
        throw new Error('the store is still unavailable');
      },
    });
    expect(await unknown.add()).toMatchObject({ code: ErrorCodes.DEPENDENCY_UNAVAILABLE });
    expect(unknown.asked).toEqual([AllocateNumber.subject]);
    // Its step and its place stay: the reaper fences the write itself before it gives the number
    // back (or announces the session, had it landed), and a later add joins as second meanwhile.
    expect(unknown.steps.forgetStep).not.toHaveBeenCalled();
    expect(unknown.places.remove).not.toHaveBeenCalled();
  });

  it('landed on a session that has ended since: closed, and the number left to that end', async () => {
    const world = firstParticipant({
      write: failing,
      fence: async () => false,
      stored: async (allocationId) => joinedSession(allocationId, 'expired'),
    });
    expect(await world.add()).toMatchObject({ code: ProxyErrorCodes.SESSION_CLOSED });
    expect(world.asked).toEqual([AllocateNumber.subject]);
    expect(world.announcer.created).not.toHaveBeenCalled();
  });

  it('gives the number back at once when the write was refused: the session closed, or (live) asked again', async () => {
    const closed = firstParticipant({
      write: async () => false,
      stored: async () => ({ status: 'expired' }),
    });
    expect(await closed.add()).toMatchObject({ code: ProxyErrorCodes.SESSION_CLOSED });
    expect(closed.sessions.fenceFirstJoin).not.toHaveBeenCalled();
    expect(closed.asked).toEqual([AllocateNumber.subject, ReleaseAllocation.subject]);

    // Live: another add gave it a number, or the orphan reaper fenced this slow one; or not read.
    const live = firstParticipant({ write: async () => false, stored: async () => ({ status: 'active' }) });
    expect(await live.add()).toMatchObject({ code: ProxyErrorCodes.PARTICIPANT_BUSY, retryable: true });
    expect(live.asked).toEqual([AllocateNumber.subject, ReleaseAllocation.subject]);
  });

  it('refused with the session unreadable: as a write not answered, the number goes back only once fenced; else number, place and step are kept', async () => {
    const unreadable = async () => {
      throw new Error('the store is unavailable');
    };
    const fenced = firstParticipant({
      write: async () => false,
      stored: unreadable,
      fence: async () => true,
    });
    expect(await fenced.add()).toMatchObject({ code: ProxyErrorCodes.PARTICIPANT_BUSY, retryable: true });
    expect(fenced.sessions.fenceFirstJoin).toHaveBeenCalledWith(SCOPE, SESSION_ID, FENCE);
    expect(fenced.asked).toEqual([AllocateNumber.subject, ReleaseAllocation.subject]);

    const unknown = firstParticipant({
      write: async () => false,
      stored: unreadable,
      fence: async () => {
        throw new Error('the store is still unavailable');
      },
    });
    expect(await unknown.add()).toMatchObject({ code: ProxyErrorCodes.PARTICIPANT_BUSY, retryable: true });
    expect(unknown.asked).toEqual([AllocateNumber.subject]);
    expect(unknown.places.remove).not.toHaveBeenCalled();
    expect(unknown.steps.forgetStep).not.toHaveBeenCalled();
  });

  it('refused on a session ended since that holds this add’s number: closed, the number left to that end', async () => {
    const world = firstParticipant({
      write: async () => false,
      stored: async (allocationId) => ({
        status: 'expired',
        virtualNumber: NUMBER,
        allocationId,
        firstParty: FIRST,
      }),
    });
    expect(await world.add()).toMatchObject({ code: ProxyErrorCodes.SESSION_CLOSED });
    expect(world.asked).toEqual([AllocateNumber.subject]);
  });

  it('refused, yet the session holds this add’s number (a retried write that landed): joined, the number kept', async () => {
    const world = firstParticipant({
      write: async () => false,
      stored: async (allocationId) => joinedSession(allocationId),
    });
    expect(await world.add()).toMatchObject({ identifier: FIRST, proxyIdentifier: NUMBER });
    expect(world.asked).toEqual([AllocateNumber.subject]);
    expect(world.announcer.created).toHaveBeenCalled();
    expect(world.places.remove).not.toHaveBeenCalled();
    expect(world.steps.forgetStep).toHaveBeenCalledWith(SCOPE, {
      sessionId: SESSION_ID,
      kind: 'allocation',
      ref: world.allocation(),
    });
  });
});

const SECOND = '+16285550002';

/**
 * The second participant of a Proxy session whose first has joined: its party is added to the
 * allocation, then the session written with it. `write` is what the store answers that write; `fence`
 * what fencing it finds; `stored` what a read of the session finds after it (given this add's
 * participant SID).
 */
function secondParticipant(world: {
  write: () => Promise<boolean>;
  fence?: () => Promise<boolean>;
  stored?: (sid: string) => Promise<unknown>;
  note?: () => Promise<void>;
}) {
  const order: string[] = [];
  let sid = '';
  const oneParty = {
    ...joinedSession('alloc-1'),
    joinFence: FENCE,
    secondParty: null,
    proxy: { mode: 'voice-and-message', participants: [{ sid: 'KP1', slot: 1 }] },
  };
  let reads = 0;
  const sessions = {
    setProxyFields: jest.fn(async () => {
      order.push('write');
      return world.write();
    }),
    fenceSecondJoin: jest.fn(world.fence ?? (async () => true)),
    get: jest.fn(async () => (reads++ === 0 ? oneParty : world.stored ? world.stored(sid) : null)),
  };
  const places = {
    // Slot 1 is the first participant's: this add takes slot 2.
    take: jest.fn(async (place: { _id: string; slot: number }) => {
      if (place.slot === 2) sid = place._id;
      return place.slot === 2;
    }),
    remove: jest.fn(async () => undefined),
  };
  const unannounced = {
    note: jest.fn(async () => {
      order.push('note');
      await world.note?.();
    }),
    forget: jest.fn(async () => void order.push('forget')),
  };
  const announcer = { updated: jest.fn(async () => void order.push('announce')) };
  const rpc = { request: jest.fn(async () => ({})) };
  const service = participantsService({ places, sessions, rpc, announcer, unannounced });
  const add = () =>
    service
      .add(
        SCOPE,
        SERVICE,
        // The session as its request read it before its turn (the add reads it again in its turn).
        { ...oneParty, joinFence: 'read-before-the-turn' } as never,
        {
          identifier: SECOND,
          proxyIdentifier: null,
        } as unknown as ParticipantRequest,
      )
      .catch((err: unknown) => err);
  /** The session as stored once a write with `participantSid` landed. */
  const joined = (participantSid: string, identifier = SECOND, status = 'active') => ({
    ...oneParty,
    status,
    secondParty: identifier,
    proxy: {
      ...oneParty.proxy,
      participants: [...oneParty.proxy.participants, { sid: participantSid, slot: 2 }],
    },
  });
  return { add, order, sessions, places, unannounced, announcer, joined, sid: () => sid };
}

describe('ProxyParticipantsService: a second participant', () => {
  const failing = async (): Promise<boolean> => {
    throw new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the store is unavailable', { retryable: true });
  };

  it('is noted before it is written, written only while the session has no second party and its fence is as read, and its note forgotten once announced', async () => {
    const world = secondParticipant({ write: async () => true });
    expect(await world.add()).toMatchObject({ identifier: SECOND, proxyIdentifier: NUMBER, slot: 2 });
    expect(world.order).toEqual(['note', 'write', 'announce', 'forget']);
    expect(world.sessions.setProxyFields).toHaveBeenCalledWith(
      SCOPE,
      SESSION_ID,
      expect.anything(),
      expect.objectContaining({ secondParty: SECOND }),
      { secondParty: null, joinFence: FENCE },
    );
    expect(world.announcer.updated).toHaveBeenCalledWith(
      expect.objectContaining({ secondParty: SECOND }),
      expect.anything(),
    );
    expect(world.unannounced.forget).toHaveBeenCalledWith(SCOPE.accountId, SESSION_ID);
  });

  it('not noted (the store away): nothing written, the place given up', async () => {
    const world = secondParticipant({
      write: async () => true,
      note: async () => {
        throw new Error('the store is unavailable');
      },
    });
    expect(await world.add()).toBeInstanceOf(Error);
    expect(world.sessions.setProxyFields).not.toHaveBeenCalled();
    expect(world.places.remove).toHaveBeenCalled();
  });

  it('a write not answered that is fenced never joins: the place is given up, nothing announced', async () => {
    const world = secondParticipant({ write: failing, fence: async () => true });
    expect(await world.add()).toMatchObject({ code: ErrorCodes.DEPENDENCY_UNAVAILABLE, retryable: true });
    expect(world.sessions.fenceSecondJoin).toHaveBeenCalledWith(SCOPE, SESSION_ID, FENCE);
    expect(world.places.remove).toHaveBeenCalled();
    expect(world.announcer.updated).not.toHaveBeenCalled();
  });

  it('a write not answered that landed joins and is announced (it was announced nowhere before)', async () => {
    const world = secondParticipant({
      write: failing,
      fence: async () => false,
      stored: async (sid) => world.joined(sid),
    });
    expect(await world.add()).toMatchObject({ identifier: SECOND, sid: world.sid() });
    expect(world.announcer.updated).toHaveBeenCalled();
    expect(world.places.remove).not.toHaveBeenCalled();
    expect(world.unannounced.forget).toHaveBeenCalled();
  });

  it('a write whose outcome cannot be told keeps its place and its note (the sweep announces it if it landed)', async () => {
    const world = secondParticipant({
      write: failing,
      fence: async () => {
        throw new Error('the store is still unavailable');
      },
    });
    expect(await world.add()).toMatchObject({ code: ErrorCodes.DEPENDENCY_UNAVAILABLE });
    expect(world.places.remove).not.toHaveBeenCalled();
    expect(world.unannounced.forget).not.toHaveBeenCalled();
    expect(world.announcer.updated).not.toHaveBeenCalled();
  });

  it('a write refused that the session shows (a retried write that landed) joins', async () => {
    const world = secondParticipant({ write: async () => false, stored: async (sid) => world.joined(sid) });
    expect(await world.add()).toMatchObject({ identifier: SECOND, sid: world.sid() });
    expect(world.announcer.updated).toHaveBeenCalled();
  });

  it('a write refused for another add’s join says which, and one refused unread is looked at as one not answered', async () => {
    const same = secondParticipant({ write: async () => false, stored: async () => same.joined('KPother') });
    expect(await same.add()).toMatchObject({ code: ProxyErrorCodes.PARTICIPANT_EXISTS });
    const other = secondParticipant({
      write: async () => false,
      stored: async () => other.joined('KPother', '+16285550003'),
    });
    expect(await other.add()).toMatchObject({ code: ProxyErrorCodes.PARTICIPANT_LIMIT });
    const ended = secondParticipant({
      write: async () => false,
      stored: async (sid) => ended.joined(sid, SECOND, 'expired'),
    });
    expect(await ended.add()).toMatchObject({ code: ProxyErrorCodes.SESSION_CLOSED });
    for (const world of [same, other, ended]) {
      expect(world.announcer.updated).not.toHaveBeenCalled();
      expect(world.places.remove).toHaveBeenCalled();
    }

    const unread = secondParticipant({
      write: async () => false,
      stored: async () => {
        throw new Error('the store is unavailable');
      },
      fence: async () => true,
    });
    expect(await unread.add()).toMatchObject({ code: ErrorCodes.DEPENDENCY_UNAVAILABLE, retryable: true });
    expect(unread.sessions.fenceSecondJoin).toHaveBeenCalledWith(SCOPE, SESSION_ID, FENCE);
    expect(unread.places.remove).toHaveBeenCalled();
    // Neither fenced nor read: its outcome unknown, the place and the note stay.
    const unknown = secondParticipant({
      write: async () => false,
      stored: async () => {
        throw new Error('the store is unavailable');
      },
      fence: async () => false,
    });
    expect(await unknown.add()).toMatchObject({ code: ErrorCodes.DEPENDENCY_UNAVAILABLE, retryable: true });
    expect(unknown.places.remove).not.toHaveBeenCalled();
    expect(unknown.unannounced.forget).not.toHaveBeenCalled();
  });
});
