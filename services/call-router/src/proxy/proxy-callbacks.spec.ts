import pino from 'pino';
import type { RpcClient } from '@maskline/messaging';
import { MetricsService } from '@maskline/observability';
import { BreakerRegistry } from '@maskline/resilience';
import type { CallRouterConfig } from '../config/call-router.config';
import { ProxyCallbacks } from './proxy-callbacks';

const OWNER = { accountId: 'MA000000000000000001', subaccountId: null, serviceSid: `KS${'a'.repeat(32)}` };

function proxyCallbacks() {
  const asked: unknown[] = [];
  const rpc = {
    request: async (_contract: unknown, payload: unknown) => {
      asked.push(payload);
      return { authToken: 'signing-token-0001' };
    },
  } as unknown as RpcClient;
  const metrics = new MetricsService('proxy-callbacks-spec');
  const config = {
    INTERCEPT_TIMEOUT_MS: 800,
    CALLBACK_HOST_ALLOWLIST: [],
    DNS_SERVERS: [],
  } as unknown as CallRouterConfig;
  return {
    asked,
    callbacks: new ProxyCallbacks(rpc, new BreakerRegistry(pino({ level: 'silent' }), metrics), config),
  };
}

describe('ProxyCallbacks: the budget an interaction’s callbacks share', () => {
  it('starts at the first callback, INTERCEPT_TIMEOUT_MS from it, and is shared by the next', async () => {
    const { callbacks } = proxyCallbacks();
    const budget: { by?: number } = {};
    const before = Date.now();
    // A loopback URL the SSRF rules refuse: answered `failed` at once, and the budget started.
    expect(await callbacks.post('intercept', OWNER, 'http://127.0.0.1:9/intercept', {}, budget)).toEqual({
      kind: 'failed',
    });
    expect(budget.by).toBeGreaterThanOrEqual(before + 800);
    expect(budget.by).toBeLessThanOrEqual(Date.now() + 800);
    const started = budget.by;
    await callbacks.post('intercept', OWNER, 'http://127.0.0.1:9/intercept', {}, budget);
    expect(budget.by).toBe(started);
  });

  it('sends nothing once the budget is spent', async () => {
    const { callbacks, asked } = proxyCallbacks();
    expect(
      await callbacks.post('intercept', OWNER, 'http://127.0.0.1:9/intercept', {}, { by: Date.now() - 1 }),
    ).toEqual({
      kind: 'failed',
    });
    // Not even the signing token was looked up.
    expect(asked).toEqual([]);
  });
});
