import { CodedError, ErrorCodes, type ProxyService } from '@maskline/contracts';
import type { Logger } from 'pino';
import type { SessionServiceConfig } from '../config/session-service.config';
import type { ExpiryScheduler } from '../expiry/expiry-scheduler';
import type { CallEventRepository } from '../interactions/call-event.repository';
import type { ProxyServicesService } from '../proxy-services/proxy-services.service';
import type { SessionAnnouncer } from '../sessions/session-announcer';
import type { SessionRepository } from '../sessions/session.repository';
import type { SessionWriteTurns } from '../sessions/session-write-turns';
import type { ProxyParticipantsService } from './proxy-participants.service';
import type { ProxySessionNameRepository } from './proxy-session-name.repository';
import type { ProxySessionViews } from './proxy-session-views';
import { ProxySessionsService } from './proxy-sessions.service';
import { countingLiveSessionQuota } from '../sessions/counting-live-session-quota.test-fixture';

const SCOPE = { accountId: 'MAAAAAAAAAAAAAAAAAA1' };
const SERVICE = { sid: `KS${'a'.repeat(32)}`, defaultTtl: 0 } as ProxyService;

/** The service with its stores mocked: `serviceReads` answers each read of the Service in turn. */
function proxySessions(
  serviceReads: Array<() => ProxyService>,
  store: {
    insert?: () => Promise<boolean>;
    fence?: () => Promise<unknown>;
    /** What a read of a session by id finds. */
    stored?: () => unknown;
  } = {},
) {
  const calls: string[] = [];
  const reads = [...serviceReads];
  const services = {
    get: jest.fn(async () => {
      calls.push('read service');
      const next = reads.shift();
      if (!next) throw new Error('the Service read more often than expected');
      return next();
    }),
  } as unknown as ProxyServicesService;
  const sessions = {
    emptyProxySessionsOf: jest.fn(async () => 0),
    insert: jest.fn(async () => {
      calls.push('store session');
      return store.insert ? store.insert() : true;
    }),
    fenceCreationSystemWide: jest.fn(async () => {
      calls.push('fence');
      return store.fence ? store.fence() : null;
    }),
    getLiveSystemWide: jest.fn(async () => null),
    get: jest.fn(async () => (store.stored ? store.stored() : null)),
    markProxyDeleted: jest.fn(async () => void calls.push('mark deleted')),
  } as unknown as SessionRepository;
  const participants = {
    add: jest.fn(async () => void calls.push('add participant')),
    finishCreate: jest.fn(async () => void calls.push('forget create steps')),
  } as unknown as ProxyParticipantsService;
  const turns = {
    during: jest.fn(async (_a: string, _s: string, change: () => Promise<unknown>) => change()),
  } as unknown as SessionWriteTurns;
  const { quota, live } = countingLiveSessionQuota();
  const service = new ProxySessionsService(
    sessions,
    {} as ProxySessionNameRepository,
    services,
    participants,
    { session: (doc: { _id: string }) => ({ sid: doc._id }) } as unknown as ProxySessionViews,
    {
      schedule: jest.fn(),
      endNow: jest.fn(async () => void calls.push('end now')),
    } as unknown as ExpiryScheduler,
    {} as SessionAnnouncer,
    {} as CallEventRepository,
    turns,
    quota,
    { PROXY_EMPTY_SESSIONS_MAX: 100 } as SessionServiceConfig,
    { warn: jest.fn() } as unknown as Logger,
  );
  return { service, calls, participants, live, turns, sessions };
}

describe('ProxySessionsService.create', () => {
  it('makes no Session of a Service deleted while it was being stored: discarded, and the Service not found', async () => {
    const { service, calls, participants } = proxySessions([
      () => SERVICE,
      () => {
        throw CodedError.notFound(`Service ${SERVICE.sid} not found`);
      },
    ]);
    await expect(
      service.create({
        scope: SCOPE,
        service: SERVICE.sid,
        participants: [{ identifier: '+14155550123', friendlyName: null, proxyIdentifier: null }],
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
    expect(calls).toEqual(['read service', 'store session', 'read service', 'mark deleted']);
    expect(participants.add).not.toHaveBeenCalled();
  });

  describe('with participants', () => {
    const participant = { identifier: '+14155550123', friendlyName: null, proxyIdentifier: null };
    const storedAs =
      (over: Record<string, unknown> = {}) =>
      () => ({
        _id: 'stored',
        accountId: SCOPE.accountId,
        subaccountId: null,
        status: 'active',
        proxy: { serviceSid: SERVICE.sid, deletedAt: null },
        ...over,
      });

    it('forgets its first participant’s step in a last turn, once all are added, and answers with the Session as stored', async () => {
      const { service, calls, turns } = proxySessions(
        [() => SERVICE, () => SERVICE, () => SERVICE, () => SERVICE],
        {
          stored: storedAs(),
        },
      );
      expect(
        await service.create({
          scope: SCOPE,
          service: SERVICE.sid,
          participants: [participant, { ...participant, identifier: '+14155550124' }],
        }),
      ).toEqual({ sid: 'stored' });
      expect(calls.slice(-3)).toEqual(['add participant', 'add participant', 'forget create steps']);
      // One turn per participant, and one for the end.
      expect(turns.during).toHaveBeenCalledTimes(3);
    });

    it('fails, and discards the Session, when its steps cannot be forgotten or the orphan reaper ended it meanwhile (it ran past ORPHAN_AGE_MS)', async () => {
      /** A create whose steps cannot be forgotten; with `discardFails`, whose discard fails too. */
      const unforgettable = async (discardFails: boolean) => {
        const world = proxySessions([() => SERVICE, () => SERVICE], { stored: storedAs() });
        const away = () => new Error('the store is unavailable');
        (world.participants.finishCreate as jest.Mock).mockRejectedValueOnce(away());
        if (discardFails) (world.sessions.markProxyDeleted as jest.Mock).mockRejectedValueOnce(away());
        await expect(
          world.service.create({ scope: SCOPE, service: SERVICE.sid, participants: [participant] }),
        ).rejects.toThrow('the store is unavailable');
        return world.calls.at(-1);
      };
      expect(await unforgettable(false)).toBe('mark deleted');
      // The discard failing too (the store away): its end is asked for, kept trying by this replica.
      expect(await unforgettable(true)).toBe('end now');

      // Ended by the reaper (marked a failed creation, then deleted): a retryable 503, never a 404
      // naming a Session its owner was never given, and its steps are not forgotten before it is judged.
      for (const reaped of [
        { failedCreation: true },
        { failedCreation: true, proxy: { serviceSid: SERVICE.sid, deletedAt: new Date() } },
      ]) {
        const ended = proxySessions([() => SERVICE, () => SERVICE, () => SERVICE, () => SERVICE], {
          stored: storedAs(reaped),
        });
        await expect(
          ended.service.create({ scope: SCOPE, service: SERVICE.sid, participants: [participant] }),
        ).rejects.toMatchObject({ code: ErrorCodes.DEPENDENCY_UNAVAILABLE, retryable: true });
        expect(ended.participants.finishCreate).not.toHaveBeenCalled();
        expect(ended.calls.at(-1)).toBe('mark deleted');
      }
    });
  });

  it('adds its participants as a create’s (a step left behind is a failed create’s, which the reaper ends), and discards the Session when one fails', async () => {
    const { service, calls, participants } = proxySessions([() => SERVICE, () => SERVICE, () => SERVICE], {
      stored: () => ({
        _id: 'stored',
        accountId: SCOPE.accountId,
        subaccountId: null,
        status: 'active',
        proxy: { serviceSid: SERVICE.sid, deletedAt: null },
      }),
    });
    (participants.add as jest.Mock).mockRejectedValueOnce(
      new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'away'),
    );
    const participant = { identifier: '+14155550123', friendlyName: null, proxyIdentifier: null };
    await expect(
      service.create({ scope: SCOPE, service: SERVICE.sid, participants: [participant] }),
    ).rejects.toMatchObject({ code: ErrorCodes.DEPENDENCY_UNAVAILABLE });
    expect(participants.add).toHaveBeenCalledWith(SCOPE, SERVICE, expect.anything(), participant, {
      inCreate: true,
    });
    expect(calls.at(-1)).toBe('mark deleted');
  });

  describe('when the store does not answer the session’s write (it may still land)', () => {
    const timedOut = () => Promise.reject(new Error('Timed out during socket read'));
    const create = (service: ProxySessionsService) =>
      service.create({ scope: SCOPE, service: SERVICE.sid, participants: [] });

    it('fences its id, and gives its live session back once the fence says it never will', async () => {
      const { service, calls, live } = proxySessions([() => SERVICE], { insert: timedOut });
      await expect(create(service)).rejects.toThrow('Timed out during socket read');
      expect(calls).toEqual(['read service', 'store session', 'fence']);
      expect(live.get(SCOPE.accountId)).toBe(0);
    });

    it('discards it when the fence finds it stored after all, as its owner was told it was not made', async () => {
      const { service, calls, live } = proxySessions([() => SERVICE], {
        insert: timedOut,
        fence: async () => ({ _id: 'stored', status: 'active' }),
      });
      await expect(create(service)).rejects.toThrow('Timed out during socket read');
      expect(calls).toEqual(['read service', 'store session', 'fence', 'mark deleted']);
      // Still counted: the session's end gives it back.
      expect(live.get(SCOPE.accountId)).toBe(1);
    });

    it('keeps it counted when the fence cannot be asked either (the recount corrects it)', async () => {
      const { service, live } = proxySessions([() => SERVICE], { insert: timedOut, fence: timedOut });
      await expect(create(service)).rejects.toThrow('Timed out during socket read');
      expect(live.get(SCOPE.accountId)).toBe(1);
    });
  });
});

describe('a request naming a session not its own', () => {
  const SESSION_ID = '0195b7a1-1111-7222-8333-444455556666';
  const KC = `KC${SESSION_ID.replace(/-/g, '')}`;
  const SUBACCOUNT = { ...SCOPE, subaccountId: 'SAAAAAAAAAAAAAAAAAA1' };
  /** A sibling subaccount's live session on the same Service (as a main-account read finds it). */
  const siblings = () => ({
    _id: SESSION_ID,
    accountId: SCOPE.accountId,
    subaccountId: 'SAAAAAAAAAAAAAAAAAA2',
    status: 'active',
    proxy: { serviceSid: SERVICE.sid },
  });

  it.each([
    [
      'an update',
      (s: ProxySessionsService) =>
        s.update({ scope: SUBACCOUNT, service: SERVICE.sid, session: KC, status: 'closed' } as never),
    ],
    ['a DELETE', (s: ProxySessionsService) => s.delete(SUBACCOUNT, SERVICE.sid, KC)],
    [
      'a participant added',
      (s: ProxySessionsService) =>
        s.addParticipant({
          scope: SUBACCOUNT,
          service: SERVICE.sid,
          session: KC,
          participant: { identifier: '+14155550123' },
        } as never),
    ],
  ])(
    '%s: not found before it asks for the session’s turn, which its owner shares (neither waits on the other)',
    async (_what, request) => {
      for (const stored of [siblings, () => null]) {
        const { service, turns, participants, sessions } = proxySessions([() => SERVICE], { stored });
        await expect(request(service)).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
        expect(turns.during).not.toHaveBeenCalled();
        expect(participants.add).not.toHaveBeenCalled();
        expect(sessions.markProxyDeleted).not.toHaveBeenCalled();
      }
      // Its own session: the same request waits for the turn (here held by another change).
      const own = () => ({ ...siblings(), subaccountId: SUBACCOUNT.subaccountId });
      const { service, turns } = proxySessions([() => SERVICE], { stored: own });
      (turns.during as jest.Mock).mockRejectedValueOnce(new CodedError(ErrorCodes.CONFLICT, 'being changed'));
      await expect(request(service)).rejects.toMatchObject({ code: ErrorCodes.CONFLICT });
      expect(turns.during).toHaveBeenCalledTimes(1);
    },
  );
});
