import { CodedError, ErrorCodes } from '@maskline/contracts';
import { MetricsService } from '@maskline/observability';
import { captureLogger } from '@maskline/testing';
import type { PinAuthConfig } from '../config/pin-auth.config';
import { BackgroundWork } from './background-work';

function setup() {
  const logs = captureLogger('pin-auth', 'trace');
  const metrics = new MetricsService('pin-auth');
  const work = new BackgroundWork(logs.logger, { SHUTDOWN_GRACE_MS: 5000 } as PinAuthConfig, metrics);
  const count = async (outcome: string) =>
    (await metrics.registry.getSingleMetric('maskline_pin_background_total')?.get())?.values.find(
      (v) => v.labels.outcome === outcome,
    )?.value ?? 0;
  return { logs, work, count };
}

describe('BackgroundWork', () => {
  it('asks again until the write succeeds, logging each failure', async () => {
    const { logs, work, count } = setup();
    let calls = 0;
    await work.run(
      async () => {
        if (++calls < 3) throw new CodedError(ErrorCodes.RPC_UNAVAILABLE, 'event stream is not available');
      },
      { what: 'pin status event' },
    );
    expect(calls).toBe(3);
    expect(await count('retried')).toBe(2);
    expect(await count('done')).toBe(1);
    expect(logs.lines.filter((l) => l.includes('trying again'))).toHaveLength(2);
  });

  it('logs and counts a write that runs out of tries, and never retries a broken payload', async () => {
    const { logs, work, count } = setup();
    await work.run(
      async () => {
        throw new Error('down');
      },
      { what: 'pin status event', attempts: 2 },
    );
    let invalid = 0;
    await work.run(
      async () => {
        invalid++;
        throw new CodedError(ErrorCodes.VALIDATION, 'callId: required');
      },
      { what: 'pin status event' },
    );
    expect(invalid).toBe(1);
    expect(await count('lost')).toBe(2);
    const given = logs.lines.filter((l) => l.includes('background write given up'));
    expect(given).toHaveLength(2);
    expect(given[0]).toContain('"level":"error"');
  });

  it('keeps the order of one key, and shutdown waits for what is under way', async () => {
    const { work } = setup();
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    void work.run(
      async () => {
        await gate;
        order.push('failed');
      },
      { what: 'pin status event', key: 'call-1' },
    );
    void work.run(async () => order.push('success'), { what: 'pin status event', key: 'call-1' });
    void work.run(async () => order.push('other call'), { what: 'pin status event', key: 'call-2' });
    const stopped = work.onApplicationShutdown();
    expect(work.inFlight).toBe(3);
    release();
    await stopped;
    expect(order).toEqual(['other call', 'failed', 'success']);
    expect(work.inFlight).toBe(0);
  });
});
