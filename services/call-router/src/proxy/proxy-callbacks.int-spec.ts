import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { RpcClient } from '@maskline/messaging';
import { MetricsService } from '@maskline/observability';
import { BreakerRegistry } from '@maskline/resilience';
import type { CallRouterConfig } from '../config/call-router.config';
import {
  CALLBACKS_PER_ACCOUNT,
  CALLBACKS_PER_SUBACCOUNT,
  ProxyCallbacks,
  type ServiceOwner,
} from './proxy-callbacks';

const ACCOUNT = 'MA000000000000000009';
const sibling = (n: number): ServiceOwner => ({
  accountId: ACCOUNT,
  subaccountId: `SA00000000000000000${n}`,
  serviceSid: `KS${String(n).repeat(32)}`,
});
const [STALLING, ITS_SIBLING] = [sibling(1), sibling(2)];

/** A Service's endpoint on loopback: `/slow` never answers (until closed), anything else answers 200. */
async function endpoint(): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const held: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.url ?? '');
    req.resume();
    if (req.url === '/slow') held.push(res);
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function proxyCallbacks() {
  const rpc = { request: async () => ({ authToken: 'signing-token-0001' }) } as unknown as RpcClient;
  const config = {
    INTERCEPT_TIMEOUT_MS: 800,
    CALLBACK_HOST_ALLOWLIST: ['127.0.0.1'],
    DNS_SERVERS: [],
  } as unknown as CallRouterConfig;
  const breakers = new BreakerRegistry(pino({ level: 'silent' }), new MetricsService('proxy-callbacks-int'));
  return new ProxyCallbacks(rpc, breakers, config);
}

describe('ProxyCallbacks: one subaccount’s endpoints cannot take its siblings’ intercepts (loopback endpoints)', () => {
  let stalling: Awaited<ReturnType<typeof endpoint>>;
  let answering: Awaited<ReturnType<typeof endpoint>>;

  beforeEach(async () => {
    [stalling, answering] = [await endpoint(), await endpoint()];
  });

  afterEach(async () => {
    await stalling.close();
    await answering.close();
  });

  it('a subaccount stalling its own endpoint holds at most its share of its account’s callbacks: a sibling’s intercept is still asked', async () => {
    const callbacks = proxyCallbacks();
    const stalled = Array.from({ length: 8 }, () =>
      callbacks.post('intercept', STALLING, `${stalling.url}/slow`, { CallSid: 'CA1' }),
    );
    // While they hang, its sibling's intercept is asked and answered.
    const theirs = await callbacks.post('intercept', ITS_SIBLING, `${answering.url}/intercept`, {
      CallSid: 'CA2',
    });
    expect(theirs).toMatchObject({ kind: 'answered', status: 200 });
    expect((await Promise.all(stalled)).every((r) => r.kind === 'failed')).toBe(true);
    // No more of the stalling subaccount's than its share were sent at once.
    expect(stalling.seen).toHaveLength(CALLBACKS_PER_SUBACCOUNT);
  });

  it('strangers holding every out-of-session turn of an account (its endpoint slow) take none of its intercepts’: those are still asked', async () => {
    const callbacks = proxyCallbacks();
    const owner: ServiceOwner = { accountId: ACCOUNT, subaccountId: null, serviceSid: `KS${'3'.repeat(32)}` };
    // Anyone calling or texting the Service's number starts an out-of-session callback; its endpoint hangs.
    const strangers = Array.from({ length: CALLBACKS_PER_ACCOUNT }, () =>
      callbacks.post('out-of-session', owner, `${stalling.url}/slow`, { From: '+16285550000' }),
    );
    // One more is not sent at all, and says so.
    expect(
      await callbacks.post('out-of-session', owner, `${stalling.url}/slow`, { From: '+16285550001' }),
    ).toEqual({ kind: 'failed', unasked: true });
    // A session's text meanwhile: its intercept is asked, and its answer (a 403, say) is what decides.
    expect(
      await callbacks.post('intercept', owner, `${answering.url}/intercept`, { interactionType: 'Message' }),
    ).toMatchObject({ kind: 'answered', status: 200 });
    expect(answering.seen).toEqual(['/intercept']);
    expect((await Promise.all(strangers)).every((r) => r.kind === 'failed')).toBe(true);
    expect(stalling.seen).toHaveLength(CALLBACKS_PER_ACCOUNT);
  });

  it('a subaccount failing on a sibling’s host opens no breaker for the sibling', async () => {
    const callbacks = proxyCallbacks();
    // Pointed at the sibling's host, on a path that never answers: its breaker for that host opens.
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        Array.from({ length: CALLBACKS_PER_SUBACCOUNT }, () =>
          callbacks.post('intercept', STALLING, `${answering.url}/slow`, { CallSid: 'CA3' }),
        ),
      );
    }
    const sentBefore = answering.seen.length;
    expect(await callbacks.post('intercept', STALLING, `${answering.url}/slow`, { CallSid: 'CA3' })).toEqual({
      kind: 'failed',
    });
    expect(answering.seen).toHaveLength(sentBefore); // refused by its open breaker, not sent
    // The sibling's own intercept on its host is asked as ever.
    expect(
      await callbacks.post('intercept', ITS_SIBLING, `${answering.url}/intercept`, { CallSid: 'CA4' }),
    ).toMatchObject({
      kind: 'answered',
      status: 200,
    });
  });
});
