import pino from 'pino';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { MetricsService } from '@maskline/observability';
import { BreakerRegistry, breakerName } from './breaker-registry';

const settings = {
  timeoutMs: 200,
  errorThresholdPercentage: 50,
  resetTimeoutMs: 60_000,
  volumeThreshold: 4,
  rollingCountTimeoutMs: 10_000,
};

function registry() {
  return new BreakerRegistry(pino({ level: 'silent' }), new MetricsService('test'), settings, 3);
}

describe('BreakerRegistry', () => {
  it('opens after repeated failures and then refuses without calling, with a coded error', async () => {
    const breakers = registry();
    const failing = jest.fn(async () => {
      throw new Error('down');
    });
    for (let i = 0; i < 4; i++) await expect(breakers.fire('rpc:pin-auth', failing)).rejects.toThrow('down');
    expect(breakers.isOpen('rpc:pin-auth')).toBe(true);
    await expect(breakers.fire('rpc:pin-auth', failing)).rejects.toMatchObject({
      code: ErrorCodes.CIRCUIT_OPEN,
    });
    expect(failing).toHaveBeenCalledTimes(4);
    breakers.shutdown();
  });

  it('refuses now while open, and while half open only once its one trial call is out', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const breakers = registry();
      const failing = async () => {
        throw new Error('down');
      };
      expect(breakers.refusesNow('rpc:pin-auth')).toBe(false);
      for (let i = 0; i < 4; i++)
        await expect(breakers.fire('rpc:pin-auth', failing)).rejects.toThrow('down');
      expect(breakers.refusesNow('rpc:pin-auth')).toBe(true);
      jest.advanceTimersByTime(settings.resetTimeoutMs);
      // Half open: the next call is the trial, so it is not refused.
      expect(breakers.isOpen('rpc:pin-auth')).toBe(false);
      expect(breakers.refusesNow('rpc:pin-auth')).toBe(false);
      let answer: () => void = () => undefined;
      const trial = breakers.fire('rpc:pin-auth', () => new Promise<string>((r) => (answer = () => r('up'))));
      // Its trial is out: any other call now would be refused without being made.
      expect(breakers.refusesNow('rpc:pin-auth')).toBe(true);
      answer();
      expect(await trial).toBe('up');
      expect(breakers.refusesNow('rpc:pin-auth')).toBe(false);
      // A trial that fails opens it again: refused until the next pause is over.
      for (let i = 0; i < 10 && !breakers.refusesNow('rpc:pin-auth'); i++) {
        await breakers.fire('rpc:pin-auth', failing).catch(() => undefined);
      }
      jest.advanceTimersByTime(settings.resetTimeoutMs);
      expect(breakers.refusesNow('rpc:pin-auth')).toBe(false);
      await expect(breakers.fire('rpc:pin-auth', failing)).rejects.toThrow('down');
      expect(breakers.refusesNow('rpc:pin-auth')).toBe(true);
      breakers.shutdown();
    } finally {
      jest.useRealTimers();
    }
  });

  it("does not open on the caller's own errors", async () => {
    const breakers = registry();
    const rejecting = async () => {
      throw new CodedError(ErrorCodes.VALIDATION, 'bad pin length');
    };
    const isClientError = (err: unknown) => err instanceof CodedError && err.code === ErrorCodes.VALIDATION;
    for (let i = 0; i < 10; i++) {
      await expect(breakers.fire('rpc:session', rejecting, { isClientError })).rejects.toMatchObject({
        code: ErrorCodes.VALIDATION,
      });
    }
    expect(breakers.isOpen('rpc:session')).toBe(false);
    breakers.shutdown();
  });

  it('isolates downstreams: one open breaker does not affect another', async () => {
    const breakers = registry();
    for (let i = 0; i < 4; i++)
      await breakers.fire('host:bad', async () => Promise.reject(new Error('x'))).catch(() => 0);
    await expect(breakers.fire('host:good', async () => 'ok')).resolves.toBe('ok');
    breakers.shutdown();
  });

  it('turns a slow call into a timeout error', async () => {
    const breakers = registry();
    const slow = () => new Promise((resolve) => setTimeout(resolve, 1000));
    await expect(breakers.fire('slow', slow)).rejects.toMatchObject({ code: ErrorCodes.RPC_TIMEOUT });
    breakers.shutdown();
  });

  it('keeps the number of tenants’ breakers bounded, forgetting the least recently used', async () => {
    const breakers = registry();
    const host = (key: string) => ({ family: 'host', key });
    for (const key of ['a', 'b', 'c']) await breakers.fire(host(key), async () => 1);
    await breakers.fire(host('a'), async () => 1);
    for (const key of ['d', 'e']) await breakers.fire(host(key), async () => 1);
    expect(breakers.names().sort()).toEqual(['host:a', 'host:d', 'host:e']);
    breakers.shutdown();
  });

  it('never forgets a shared breaker to make room, open or not, and shows the shared ones first', async () => {
    const breakers = registry();
    const failing = async () => Promise.reject(new Error('down'));
    for (let i = 0; i < 4; i++) await breakers.fire('rpc:pin-auth', failing).catch(() => 0);
    expect(breakers.isOpen('rpc:pin-auth')).toBe(true);
    // Tenants' breakers, all open, fill the registry (its bound is 3) many times over.
    for (let t = 0; t < 10; t++) {
      for (let i = 0; i < 4; i++)
        await breakers.fire({ family: 'host', key: `t${t}` }, failing).catch(() => 0);
    }
    expect(breakers.isOpen('rpc:pin-auth')).toBe(true);
    expect(breakers.names()).toContain('rpc:pin-auth');
    expect(breakers.notClosed()[0]).toStrictEqual({ name: 'rpc:pin-auth', state: 'open' });
    expect(breakers.names()).toHaveLength(3);
    breakers.shutdown();
  });

  it('counts a tenant’s breaker under its family, never its own name, and labels its state by scope', async () => {
    const metrics = new MetricsService('test');
    const breakers = new BreakerRegistry(pino({ level: 'silent' }), metrics, settings, 3);
    const tenant = { family: 'rpc:call-router', key: 'MA000000000000000001' };
    await breakers.fire(tenant, async () => 1);
    await breakers.fire('rpc:session-service', async () => 1);
    const text = await metrics.registry.metrics();
    const lines = (metric: string) => text.split('\n').filter((l) => l.startsWith(`${metric}{`));
    expect(
      lines('maskline_breaker_events_total')
        .map((l) => /breaker="([^"]*)"/.exec(l)?.[1])
        .sort(),
    ).toEqual(['rpc:call-router', 'rpc:session-service']);
    expect(lines('maskline_breaker_state')).toEqual(
      expect.arrayContaining([
        expect.stringContaining('breaker="rpc:call-router:MA000000000000000001",scope="tenant"'),
        expect.stringContaining('breaker="rpc:session-service",scope="shared"'),
      ]),
    );
    expect(breakerName(tenant)).toBe('rpc:call-router:MA000000000000000001');
    expect(breakers.names().sort()).toEqual(['rpc:call-router:MA000000000000000001', 'rpc:session-service']);
    breakers.shutdown();
  });
});
