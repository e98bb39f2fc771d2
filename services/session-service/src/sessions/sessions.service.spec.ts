import { CodedError, ErrorCodes } from '@maskline/contracts';
import type { RpcClient } from '@maskline/messaging';
import type { ExpiryScheduler } from '../expiry/expiry-scheduler';
import type { PartyRedaction } from '../privacy/party-redaction';
import type { SessionAnnouncer } from './session-announcer';
import type { SessionRepository } from './session.repository';
import type { SessionViews } from './session-views';
import type { SessionWriteTurns } from './session-write-turns';
import { SessionsService } from './sessions.service';

const SESSION_ID = '0195b7a1-1111-7222-8333-444455556666';
const SUBACCOUNT = { accountId: 'MAAAAAAAAAAAAAAAAAA1', subaccountId: 'SAAAAAAAAAAAAAAAAAA1' };

/** The service with its store and turns mocked: `stored` is what a read of the session by id finds. */
function sessionsService(stored: () => unknown) {
  const sessions = { get: jest.fn(async () => stored()) } as unknown as SessionRepository;
  const expiry = { expireNowForOwner: jest.fn(async () => undefined) } as unknown as ExpiryScheduler;
  const turns = {
    during: jest.fn(async (_a: string, _s: string, change: () => Promise<unknown>) => change()),
  } as unknown as SessionWriteTurns;
  const service = new SessionsService(
    sessions,
    {} as SessionViews,
    expiry,
    {} as RpcClient,
    {} as SessionAnnouncer,
    {} as PartyRedaction,
    turns,
  );
  return { service, turns, expiry };
}

/** A live single-party session of the subaccount's, lacking the party `parties` leaves null. */
const singlePartySession = (parties: { firstParty: string | null; secondParty: string | null }) => ({
  _id: SESSION_ID,
  ...SUBACCOUNT,
  allocationId: SESSION_ID,
  virtualNumber: '+14155550100',
  status: 'active',
  ...parties,
  settings: { createSessionWithSingleParty: true },
  createdAt: new Date('2026-12-07T00:00:00Z'),
  modifiedAt: new Date('2026-12-07T00:00:00Z'),
});

describe('SessionsService: a request naming a session not its own', () => {
  it.each([
    [
      'an update',
      (s: SessionsService) =>
        s.update({ scope: SUBACCOUNT, sessionId: SESSION_ID, changes: { recordCall: true } } as never),
    ],
    ['a DELETE', (s: SessionsService) => s.expire(SUBACCOUNT, SESSION_ID)],
  ])(
    '%s: not found before it asks for the session’s turn, which its owner shares (neither waits on the other)',
    async (_what, request) => {
      // A sibling subaccount's session, read with this subaccount's scope: nothing found.
      const { service, turns, expiry } = sessionsService(() => null);
      await expect(request(service)).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
      expect(turns.during).not.toHaveBeenCalled();
      expect(expiry.expireNowForOwner).not.toHaveBeenCalled();

      // Its own session: the same request waits for the turn (here held by another change).
      const own = sessionsService(() => ({
        _id: SESSION_ID,
        ...SUBACCOUNT,
        virtualNumber: '+14155550100',
        status: 'active',
      }));
      (own.turns.during as jest.Mock).mockRejectedValueOnce(
        new CodedError(ErrorCodes.CONFLICT, 'being changed'),
      );
      await expect(request(own.service)).rejects.toMatchObject({ code: ErrorCodes.CONFLICT });
      expect(own.turns.during).toHaveBeenCalledTimes(1);
    },
  );
});

describe('SessionsService: an update naming both parties of a single-party session', () => {
  it('refused for one of them, adds neither: the other’s party is not left held on the number unshown', async () => {
    const rpc = { request: jest.fn(async () => ({ virtualNumber: '+14155550100' })) };
    const stored = singlePartySession({ firstParty: null, secondParty: '+16285550002' });
    const turns = {
      during: jest.fn(async (_a: string, _s: string, change: () => Promise<unknown>) => change()),
    } as unknown as SessionWriteTurns;
    const service = new SessionsService(
      { get: jest.fn(async () => stored) } as unknown as SessionRepository,
      {} as SessionViews,
      {} as ExpiryScheduler,
      rpc as unknown as RpcClient,
      {} as SessionAnnouncer,
      {} as PartyRedaction,
      turns,
    );
    const refused = await service
      .update({
        scope: SUBACCOUNT,
        sessionId: SESSION_ID,
        changes: { firstParty: '+16285550001', secondParty: '+16285550003' },
      } as never)
      .catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: ErrorCodes.VALIDATION, field: 'second_party' });
    expect(rpc.request).not.toHaveBeenCalled();
  });
});

describe('SessionsService: a DELETE of a session an expiry marked ended and stopped on', () => {
  it('finishes that end (answered once it is), where an end that finished answers "already expired"', async () => {
    for (const [unfinished, ends] of [
      [true, 1],
      [false, 0],
    ] as const) {
      const { service, expiry } = sessionsService(() => ({
        _id: SESSION_ID,
        ...SUBACCOUNT,
        virtualNumber: '+14155550100',
        status: 'expired',
      }));
      (service as unknown as { sessions: { endsUnfinishedLive: jest.Mock } }).sessions.endsUnfinishedLive =
        jest.fn(async () => unfinished);
      const answer = await service.expire(SUBACCOUNT, SESSION_ID).catch((err: unknown) => err);
      expect(expiry.expireNowForOwner).toHaveBeenCalledTimes(ends);
      if (unfinished) expect(answer).toBeUndefined();
      else expect(answer).toMatchObject({ message: 'Session already expired' });
    }
  });
});

describe('SessionsService: an update whose write the store did not answer', () => {
  it('notes the session for the unannounced-update sweep when the write may have landed (a party joined unannounced otherwise), not when it was refused', async () => {
    for (const [failure, noted] of [
      [new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the store is unavailable', { retryable: true }), 1],
      [new Error('Timed out during socket read'), 1],
      [CodedError.validation('settings', 'refused'), 0],
    ] as const) {
      const stored = singlePartySession({ firstParty: '+16285550001', secondParty: null });
      const announcer = { noteForSweep: jest.fn(async () => undefined) };
      const service = new SessionsService(
        {
          get: jest.fn(async () => stored),
          updateActive: jest.fn(async () => {
            throw failure;
          }),
        } as unknown as SessionRepository,
        { eventsOf: jest.fn(async () => []) } as unknown as SessionViews,
        {} as ExpiryScheduler,
        { request: jest.fn(async () => ({ virtualNumber: '+14155550100' })) } as unknown as RpcClient,
        announcer as unknown as SessionAnnouncer,
        {} as PartyRedaction,
        {
          during: jest.fn(async (_a: string, _s: string, change: () => Promise<unknown>) => change()),
        } as unknown as SessionWriteTurns,
      );
      await expect(
        service.update({
          scope: SUBACCOUNT,
          sessionId: SESSION_ID,
          changes: { secondParty: '+16285550003' },
        } as never),
      ).rejects.toBe(failure);
      expect(announcer.noteForSweep).toHaveBeenCalledTimes(noted);
      if (noted) expect(announcer.noteForSweep).toHaveBeenCalledWith(SUBACCOUNT.accountId, SESSION_ID);
    }
  });
});
