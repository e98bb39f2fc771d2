import type { Logger } from 'pino';
import {
  CodedError,
  DEFAULT_SESSION_SETTINGS,
  ErrorCodes,
  FirstPartyCallFailed,
  GetNumberRouting,
  GetRoutingSession,
  SessionCreated,
  type RoutingSession,
} from '@maskline/contracts';
import { RetryLater, type EventPublisher, type RpcClient } from '@maskline/messaging';
import type { BreakerRegistry } from '@maskline/resilience';
import type { CallState } from '../calls/call-state';
import type { CallRouterConfig } from '../config/call-router.config';
import { OutboundCaller } from './outbound-caller';

const SESSION_ID = '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b';

/** The session as its creation announced it, or as it is now (`now`). */
function view(over: Partial<RoutingSession> = {}): RoutingSession {
  return {
    sessionId: SESSION_ID,
    accountId: 'MAAAAAAAAAAAAAAAAAAA',
    subaccountId: null,
    virtualNumber: '+14155550100',
    firstParty: '+16285550001',
    secondParty: '+16285550002',
    status: 'active',
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    createdAt: new Date().toISOString(),
    settings: { ...DEFAULT_SESSION_SETTINGS, initiateCallToFirstParty: true },
    ...over,
  };
}

/**
 * The caller, with the session as it is now (`now`, null: gone); `claimed` tells whether it went on
 * to call the first party (it claims the call just before placing it; the claim here says "called
 * already", so nothing is placed).
 */
function caller(
  now: RoutingSession | null,
  options: {
    /** The number as number-pool answers it: without credentials, or not at all (it throws this). */
    number?: 'no-credentials' | Error;
    /** session-service's answer fails with this. */
    sessionFails?: Error;
    /** The claim fails with this (placing the call failed so). */
    placing?: Error;
    deliveryCount?: number;
  } = {},
) {
  const asked: string[] = [];
  const rpc = {
    request: jest.fn(async (contract: { subject: string }) => {
      asked.push(contract.subject);
      if (contract.subject === GetRoutingSession.subject) {
        if (options.sessionFails) throw options.sessionFails;
        return { session: now };
      }
      if (contract.subject === GetNumberRouting.subject) {
        if (options.number instanceof Error) throw options.number;
        return {
          accountId: 'MAAAAAAAAAAAAAAAAAAA',
          provider: 'plivo',
          credentials:
            options.number === 'no-credentials' ? null : { accountId: 'MAPROVIDER', authToken: 'token' },
        };
      }
      throw new Error(`unexpected ${contract.subject}`);
    }),
  } as unknown as RpcClient;
  const state = {
    claimOutbound: jest.fn(async () => {
      if (options.placing) throw options.placing;
      return false;
    }),
  } as unknown as CallState;
  /** What was announced: the failures' payloads. */
  const announced: Array<Record<string, unknown>> = [];
  const events = {
    publish: jest.fn(async (contract: { subject: string }, payload: Record<string, unknown>) => {
      expect(contract.subject).toBe(FirstPartyCallFailed.subject);
      announced.push(payload);
      return { seq: 1, duplicate: false };
    }),
  } as unknown as EventPublisher;
  const subject = new OutboundCaller(
    rpc,
    events,
    {} as BreakerRegistry,
    state,
    {} as CallRouterConfig,
    { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger,
  );
  const created = (routing: RoutingSession, ageMs: number) =>
    subject.onSessionCreated(
      { subject: SessionCreated.subject, payload: { sessionId: SESSION_ID, routing } } as never,
      {
        subject: SessionCreated.subject,
        streamSequence: 1,
        deliveryCount: options.deliveryCount ?? 1,
        publishedAt: new Date(Date.now() - ageMs),
      },
    );
  return {
    created,
    asked,
    announced,
    claimed: () => (state.claimOutbound as jest.Mock).mock.calls.length > 0,
  };
}

describe('calling the first party of a session just created', () => {
  it('a fresh event: the view it carries is the session, and the call goes ahead without asking', async () => {
    const c = caller(null);
    await c.created(view(), 1000);
    expect(c.asked).not.toContain(GetRoutingSession.subject);
    expect(c.claimed()).toBe(true);
  });

  it('a late event (a backlog after an outage) of a session that has ended since: nobody is called', async () => {
    const c = caller(view({ status: 'expired', expiresAt: new Date(Date.now() - 60_000).toISOString() }));
    await c.created(view(), 3 * 3_600_000);
    expect(c.asked).toContain(GetRoutingSession.subject);
    expect(c.claimed()).toBe(false);
  });

  it('a late event of a session gone from the store, or past its end and not yet expired: nobody is called', async () => {
    const gone = caller(null);
    await gone.created(view(), 3_600_000);
    expect(gone.claimed()).toBe(false);
    const past = caller(view({ expiresAt: new Date(Date.now() - 1000).toISOString() }));
    await past.created(view(), 3_600_000);
    expect(past.claimed()).toBe(false);
  });

  it('a late event of a session still live: the call goes ahead', async () => {
    const c = caller(view());
    await c.created(view(), 3_600_000);
    expect(c.claimed()).toBe(true);
  });
});

describe('a call to the first party that will not be placed', () => {
  const unreachable = () =>
    new CodedError(ErrorCodes.RPC_UNAVAILABLE, 'session-service is not available', { retryable: true });

  it('is announced at once, with why, when the number has no credentials to call with', async () => {
    const c = caller(null, { number: 'no-credentials' });
    await expect(c.created(view(), 1000)).rejects.toMatchObject({ code: 'CALL.NO_PROVIDER_CREDENTIALS' });
    expect(c.announced).toEqual([
      expect.objectContaining({
        sessionId: SESSION_ID,
        accountId: 'MAAAAAAAAAAAAAAAAAAA',
        virtualNumber: '+14155550100',
        firstParty: '+16285550001',
        reason: 'no-credentials',
      }),
    ]);
  });

  it('is announced at once when no inventory holds the number any more', async () => {
    const c = caller(null, { number: CodedError.notFound('no such number') });
    await expect(c.created(view(), 1000)).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
    expect(c.announced.map((a) => a.reason)).toEqual(['number-not-held']);
  });

  it('is not announced while tries are left, and is at the last of them', async () => {
    const busy = new RetryLater('plivo answered 503', 2000);
    const early = caller(null, { placing: busy, deliveryCount: 5 });
    await expect(early.created(view(), 1000)).rejects.toBe(busy);
    expect(early.announced).toEqual([]);
    const last = caller(null, { placing: busy, deliveryCount: 6 });
    await expect(last.created(view(), 1000)).rejects.toBe(busy);
    expect(last.announced.map((a) => a.reason)).toEqual(['provider-unavailable']);
  });

  it('at the last try with the session unreadable, is announced from what the event said of it', async () => {
    const c = caller(null, { sessionFails: unreachable(), deliveryCount: 6 });
    // Late: the session is asked for, and cannot be read.
    await expect(c.created(view(), 3_600_000)).rejects.toMatchObject({ code: ErrorCodes.RPC_UNAVAILABLE });
    expect(c.announced.map((a) => a.reason)).toEqual(['unavailable']);
  });

  it('is never announced for a session whose first party was not to be called', async () => {
    const c = caller(null, { sessionFails: unreachable(), deliveryCount: 6 });
    const plain = view({ settings: { ...DEFAULT_SESSION_SETTINGS, initiateCallToFirstParty: false } });
    await expect(c.created(plain, 3_600_000)).rejects.toMatchObject({ code: ErrorCodes.RPC_UNAVAILABLE });
    expect(c.announced).toEqual([]);
  });
});
