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
