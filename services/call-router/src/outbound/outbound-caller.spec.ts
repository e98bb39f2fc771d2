import type { Logger } from 'pino';
import {
  DEFAULT_SESSION_SETTINGS,
  GetNumberRouting,
  GetRoutingSession,
  SessionCreated,
  type RoutingSession,
} from '@maskline/contracts';
import type { RpcClient } from '@maskline/messaging';
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
function caller(now: RoutingSession | null) {
  const asked: string[] = [];
  const rpc = {
    request: jest.fn(async (contract: { subject: string }) => {
      asked.push(contract.subject);
      if (contract.subject === GetRoutingSession.subject) return { session: now };
      if (contract.subject === GetNumberRouting.subject)
        return {
          accountId: 'MAAAAAAAAAAAAAAAAAAA',
          provider: 'plivo',
          credentials: { accountId: 'MAPROVIDER', authToken: 'token' },
        };
      throw new Error(`unexpected ${contract.subject}`);
    }),
  } as unknown as RpcClient;
  const state = { claimOutbound: jest.fn(async () => false) } as unknown as CallState;
  const subject = new OutboundCaller(
    rpc,
    {} as BreakerRegistry,
    state,
    {} as CallRouterConfig,
    { info: () => undefined, warn: () => undefined } as unknown as Logger,
  );
  const created = (routing: RoutingSession, ageMs: number) =>
    subject.onSessionCreated(
      { subject: SessionCreated.subject, payload: { sessionId: SESSION_ID, routing } } as never,
      {
        subject: SessionCreated.subject,
        streamSequence: 1,
        deliveryCount: 1,
        publishedAt: new Date(Date.now() - ageMs),
      },
    );
  return { created, asked, claimed: () => (state.claimOutbound as jest.Mock).mock.calls.length > 0 };
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
