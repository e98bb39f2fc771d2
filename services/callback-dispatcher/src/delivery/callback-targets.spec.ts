import pino from 'pino';
import { DEFAULT_SESSION_SETTINGS, type RoutingSession } from '@maskline/contracts';
import type { RpcClient } from '@maskline/messaging';
import { MetricsService } from '@maskline/observability';
import { CallbackTargets } from './callback-targets';

const SESSION = '2d1f4d6e-8c1a-4a55-9a3e-0c7f3c1b9a11';
const ACCOUNT = 'MAAAAAAAAAAAAAAAAAAA';

function routing(over: Partial<RoutingSession> = {}): RoutingSession {
  return {
    sessionId: SESSION,
    accountId: ACCOUNT,
    subaccountId: null,
    virtualNumber: '+14155550100',
    firstParty: '+14155550101',
    secondParty: '+14155550102',
    status: 'expired',
    expiresAt: '2026-01-01T00:00:00.000Z',
    createdAt: '2026-01-01T00:00:00.000Z',
    settings: { ...DEFAULT_SESSION_SETTINGS, callbackUrl: 'http://127.0.0.1:9/from-event' },
    ...over,
  };
}

function targets() {
  const asked: string[] = [];
  const rpc = {
    request: async (_contract: unknown, payload: { sessionId: string }) => {
      asked.push(payload.sessionId);
      return {
        subaccountId: null,
        callbackUrl: 'http://127.0.0.1:9/from-session-service',
        callbackMethod: 'POST',
        recordingCallbackUrl: null,
        recordingCallbackMethod: 'POST',
        firstParty: null,
        secondParty: null,
        virtualNumber: '+14155550100',
      };
    },
  } as unknown as RpcClient;
  const t = new CallbackTargets({} as never, rpc, pino({ level: 'silent' }), new MetricsService('test'));
  return { t, asked };
}

describe('CallbackTargets', () => {
  it('takes the target from the event’s own session view, without asking session-service', async () => {
    const { t, asked } = targets();
    t.learn(routing(), { accountId: ACCOUNT, sessionId: SESSION });
    expect((await t.get(ACCOUNT, SESSION))?.callbackUrl).toBe('http://127.0.0.1:9/from-event');
    expect(asked).toEqual([]);
  });

  it('ignores a view of another session or another account, and asks session-service instead', async () => {
    const { t, asked } = targets();
    t.learn(routing(), { accountId: ACCOUNT, sessionId: 'e0c6d0a4-1b7e-4a61-8f43-0a9b2b9b7c22' });
    t.learn(routing({ accountId: 'MABBBBBBBBBBBBBBBBBB' }), {
      accountId: 'MABBBBBBBBBBBBBBBBBB',
      sessionId: SESSION,
    });
    expect((await t.get(ACCOUNT, SESSION))?.callbackUrl).toBe('http://127.0.0.1:9/from-session-service');
    expect(asked).toEqual([SESSION]);
  });

  it('keeps the newest view it learns: an older one (a router behind an update) does not bring back its target', async () => {
    const { t, asked } = targets();
    const at = (iso: string, url: string) =>
      routing({ modifiedAt: iso, settings: { ...DEFAULT_SESSION_SETTINGS, callbackUrl: url } });
    const about = { accountId: ACCOUNT, sessionId: SESSION };
    t.learn(at('2026-01-01T00:00:02.000Z', 'http://127.0.0.1:9/new'), about);
    t.learn(at('2026-01-01T00:00:01.000Z', 'http://127.0.0.1:9/old'), about);
    expect((await t.get(ACCOUNT, SESSION))?.callbackUrl).toBe('http://127.0.0.1:9/new');
    // An update heard forgets the target; a call step's view from before that update is not kept.
    t.heardUpdate({
      accountId: ACCOUNT,
      sessionId: SESSION,
      routing: { modifiedAt: '2026-01-01T00:00:03.000Z' },
    });
    t.learn(at('2026-01-01T00:00:02.000Z', 'http://127.0.0.1:9/new'), about);
    expect((await t.get(ACCOUNT, SESSION))?.callbackUrl).toBe('http://127.0.0.1:9/from-session-service');
    expect(asked).toEqual([SESSION]);
    // The update's own view, or a later one, is.
    t.heardUpdate({
      accountId: ACCOUNT,
      sessionId: SESSION,
      routing: { modifiedAt: '2026-01-01T00:00:03.000Z' },
    });
    t.learn(at('2026-01-01T00:00:03.000Z', 'http://127.0.0.1:9/updated'), about);
    expect((await t.get(ACCOUNT, SESSION))?.callbackUrl).toBe('http://127.0.0.1:9/updated');
    expect(asked).toEqual([SESSION]);
  });

  it('a call step’s view only fills a target not known: it never replaces nor renews one', async () => {
    const { t, asked } = targets();
    const about = { accountId: ACCOUNT, sessionId: SESSION };
    const view = (iso: string, url: string) =>
      routing({ modifiedAt: iso, settings: { ...DEFAULT_SESSION_SETTINGS, callbackUrl: url } });
    // Unknown: filled from the step, nothing asked.
    t.learn(view('2026-01-01T00:00:01.000Z', 'http://127.0.0.1:9/step'), about, { fillOnly: true });
    expect((await t.get(ACCOUNT, SESSION))?.callbackUrl).toBe('http://127.0.0.1:9/step');
    // Known (a session event's view): a step's, even a later one, does not replace it.
    t.learn(view('2026-01-01T00:00:02.000Z', 'http://127.0.0.1:9/session-event'), about);
    t.learn(view('2026-01-01T00:00:03.000Z', 'http://127.0.0.1:9/router'), about, { fillOnly: true });
    expect((await t.get(ACCOUNT, SESSION))?.callbackUrl).toBe('http://127.0.0.1:9/session-event');
    expect(asked).toEqual([]);
  });

  it('never learns a Proxy session’s target from a view (its Service’s is asked), and keeps the latest update heard', async () => {
    const { t, asked } = targets();
    const about = { accountId: ACCOUNT, sessionId: SESSION };
    t.learn(routing({ proxyServiceSid: `KS${'a'.repeat(32)}` }), about);
    expect((await t.get(ACCOUNT, SESSION))?.callbackUrl).toBe('http://127.0.0.1:9/from-session-service');
    expect(asked).toEqual([SESSION]);
    // Updates heard out of order: the later one's time stands.
    const other = 'e0c6d0a4-1b7e-4a61-8f43-0a9b2b9b7c22';
    t.heardUpdate({
      accountId: ACCOUNT,
      sessionId: other,
      routing: { modifiedAt: '2026-01-01T00:00:05.000Z' },
    });
    t.heardUpdate({
      accountId: ACCOUNT,
      sessionId: other,
      routing: { modifiedAt: '2026-01-01T00:00:04.000Z' },
    });
    t.learn(routing({ sessionId: other, modifiedAt: '2026-01-01T00:00:04.500Z' }), {
      accountId: ACCOUNT,
      sessionId: other,
    });
    await t.get(ACCOUNT, other);
    expect(asked).toEqual([SESSION, other]);
  });

  it('another account’s flood of updates does not make it forget this account’s: an older view of this session stays refused', async () => {
    const { t, asked } = targets();
    t.heardUpdate({
      accountId: ACCOUNT,
      sessionId: SESSION,
      routing: { modifiedAt: '2026-01-01T00:00:03.000Z' },
    });
    const flooder = 'MAFLOODFLOODFLOODFLO';
    for (let i = 0; i < 60_000; i++) {
      t.heardUpdate({
        accountId: flooder,
        sessionId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        routing: { modifiedAt: '2026-01-01T00:00:04.000Z' },
      });
    }
    // A call step's view from before this session's update (a router behind it) is not learnt.
    t.learn(
      routing({
        modifiedAt: '2026-01-01T00:00:02.000Z',
        settings: { ...DEFAULT_SESSION_SETTINGS, callbackUrl: 'http://127.0.0.1:9/old' },
      }),
      { accountId: ACCOUNT, sessionId: SESSION },
      { fillOnly: true },
    );
    expect((await t.get(ACCOUNT, SESSION))?.callbackUrl).toBe('http://127.0.0.1:9/from-session-service');
    expect(asked).toEqual([SESSION]);
  });
});
