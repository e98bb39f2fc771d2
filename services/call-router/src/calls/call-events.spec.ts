import { CallProgressed, DEFAULT_SESSION_SETTINGS, type RoutingSession } from '@maskline/contracts';
import type { EventPublisher } from '@maskline/messaging';
import { RoutingIndex } from '../routing/routing-index';
import { CallEvents } from './call-events';

const ACCOUNT = 'MAAAAAAAAAAAAAAAAAAA';
const SESSION = '0193a2b4-0000-7000-8000-000000000001';

function held(over: Partial<RoutingSession> = {}): RoutingSession {
  return {
    sessionId: SESSION,
    accountId: ACCOUNT,
    subaccountId: null,
    virtualNumber: '+14155550100',
    firstParty: '+14155551001',
    secondParty: '+14155551002',
    status: 'active',
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    createdAt: new Date().toISOString(),
    modifiedAt: new Date().toISOString(),
    settings: { ...DEFAULT_SESSION_SETTINGS, callbackUrl: 'http://127.0.0.1:9/cb' },
    ...over,
  };
}

function callEvents(index: RoutingIndex) {
  const published: Array<Record<string, unknown>> = [];
  const publisher = {
    publish: async (contract: unknown, payload: Record<string, unknown>) => {
      expect(contract).toBe(CallProgressed);
      // What the real publisher checks before it sends.
      expect(CallProgressed.payload.safeParse(payload).success).toBe(true);
      published.push(payload);
      return { seq: 1, duplicate: false };
    },
  } as unknown as EventPublisher;
  return { events: new CallEvents(publisher, index), published };
}

const call = (accountId = ACCOUNT) => ({
  accountId,
  sessionId: SESSION,
  virtualNumber: '+14155550100',
  callId: 'call-1',
  from: '+14155551001',
  to: '+14155551002',
});

describe('CallEvents', () => {
  it('a step carries the session as this router holds it, for the callback dispatcher', async () => {
    const index = new RoutingIndex();
    const session = held();
    index.upsert(session);
    index.ready = true;
    const { events, published } = callEvents(index);
    await events.step('first-party-answered', call());
    expect(published[0]!.routing).toEqual(index.get(SESSION));
    expect(published[0]!.routing).toMatchObject({
      sessionId: SESSION,
      modifiedAt: session.modifiedAt,
      settings: expect.objectContaining({ callbackUrl: 'http://127.0.0.1:9/cb' }),
    });
  });

  it('carries none for a session it does not hold, nor another account’s, nor while its index is not trusted', async () => {
    const index = new RoutingIndex();
    index.ready = true;
    const { events, published } = callEvents(index);
    await events.step('first-party-answered', call());
    index.upsert(held({ accountId: 'MABBBBBBBBBBBBBBBBBB' }));
    await events.step('parties-hangup', call());
    const own = new RoutingIndex();
    own.upsert(held());
    // Loading, or behind a broken feed: what it holds may be out of date.
    own.ready = false;
    const untrusted = callEvents(own);
    await untrusted.events.step('first-party-answered', call());
    expect([...published, ...untrusted.published].map((p) => 'routing' in p)).toEqual([false, false, false]);
  });
});
