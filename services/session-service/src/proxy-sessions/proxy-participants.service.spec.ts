import pino from 'pino';
import {
  AllocateNumber,
  CodedError,
  ErrorCodes,
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
import type { ProxyParticipantRepository } from './proxy-participant.repository';
import { ProxyParticipantsService } from './proxy-participants.service';
import type { ProxyStickyNumbers } from './proxy-sticky-numbers';

const SCOPE = { accountId: 'MAAAAAAAAAAAAAAAAAA1' };
const SESSION_ID = '0195b7a1-1111-7222-8333-444455556666';
const NUMBER = '+14155550100';
const FIRST = '+16285550001';

/**
 * The first participant of a Proxy session: its number is allocated, then the session written with
 * it. The store fails that write in `write` (its outcome unknown), and `fence`/`stored` say what a
 * look afterwards finds.
 */
function firstParticipant(world: {
  write: () => Promise<boolean>;
  fence: () => Promise<boolean>;
  /** The allocation the session shows when read after the fence found it changed. */
  stored?: () => Promise<string | null>;
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
    fenceFirstJoin: jest.fn(world.fence),
    get: jest.fn(async () => ({ allocationId: world.stored ? await world.stored() : null })),
  } as unknown as SessionRepository;
  const service = new ProxyParticipantsService(
    {
      take: jest.fn(async () => true),
      remove: jest.fn(async () => undefined),
    } as unknown as ProxyParticipantRepository,
    sessions,
    {
      record: jest.fn(async () => undefined),
      forgetSession: jest.fn(async () => undefined),
    } as unknown as SagaStepsRepository,
    { decide: jest.fn(async () => true) } as unknown as AllocationFates,
    { previous: jest.fn(async () => null) } as unknown as ProxyStickyNumbers,
    {} as SessionAnnouncer,
    {} as ExpiryScheduler,
    { redact: () => 'digest' } as unknown as PartyRedaction,
    rpc,
    pino({ level: 'silent' }),
  );
  const add = () =>
    service
      .add(
        SCOPE,
        {
          sid: 'KS00000000000000000000000000000001',
          numberSelectionBehavior: 'prefer-sticky',
        } as ProxyService,
        {
          _id: SESSION_ID,
          accountId: SCOPE.accountId,
          proxy: { mode: 'voice-and-message' },
          createdAt: new Date('2026-12-07T00:00:00Z'),
          modifiedAt: new Date('2026-12-07T00:00:00Z'),
        } as never,
        { identifier: FIRST, proxyIdentifier: null } as unknown as ParticipantRequest,
      )
      .catch((err: unknown) => err);
  return { add, asked, sessions, allocation: () => allocationId };
}

describe('ProxyParticipantsService: a first participant whose session write fails', () => {
  const unavailable = () =>
    new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the store is unavailable', { retryable: true });

  it('gives the number back once the write is fenced (it can never land later)', async () => {
    const fault = unavailable();
    const { add, asked, sessions } = firstParticipant({
      write: async () => {
        throw fault;
      },
      fence: async () => true,
    });
    expect(await add()).toBe(fault);
    // Written only while the session has no number and its fence is as read; fenced with the same.
    expect(sessions.setProxyFields).toHaveBeenCalledWith(
      SCOPE,
      SESSION_ID,
      expect.anything(),
      expect.objectContaining({ virtualNumber: NUMBER, firstParty: FIRST }),
      { virtualNumber: null, joinFence: null },
    );
    expect(sessions.fenceFirstJoin).toHaveBeenCalledWith(SCOPE, SESSION_ID, null);
    expect(asked).toEqual([AllocateNumber.subject, ReleaseAllocation.subject]);
  });

  it('keeps the number when the write landed after all: the session shows it, held', async () => {
    // The session, read after the fence found its number set, shows this add's allocation.
    const world: ReturnType<typeof firstParticipant> = firstParticipant({
      write: async () => {
        throw unavailable();
      },
      fence: async () => false,
      stored: async () => world.allocation(),
    });
    await world.add();
    expect(world.allocation()).not.toBe('');
    expect(world.asked).toEqual([AllocateNumber.subject]);
  });

  it('gives the number back when the session shows another allocation, and keeps it when nothing can be told', async () => {
    const other = firstParticipant({
      write: async () => {
        throw unavailable();
      },
      fence: async () => false,
      stored: async () => '0195b7a1-9999-7222-8333-444455556666',
    });
    await other.add();
    expect(other.asked).toEqual([AllocateNumber.subject, ReleaseAllocation.subject]);

    const unknown = firstParticipant({
      write: async () => {
        throw unavailable();
      },
      fence: async () => {
        throw new Error('the store is still unavailable');
      },
    });
    await unknown.add();
    expect(unknown.asked).toEqual([AllocateNumber.subject]);
  });

  it('gives the number back at once when the write says it did not land (the session closed)', async () => {
    const { add, asked, sessions } = firstParticipant({ write: async () => false, fence: async () => true });
    expect(await add()).toMatchObject({ message: 'Session is closed' });
    expect(sessions.fenceFirstJoin).not.toHaveBeenCalled();
    expect(asked).toEqual([AllocateNumber.subject, ReleaseAllocation.subject]);
  });
});
