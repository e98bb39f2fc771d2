import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import pino from 'pino';
import { MetricsService } from '@maskline/observability';
import { PeriodicTask, STORE_BUSY_RETRY_MS } from './periodic-task';

class Counting extends PeriodicTask {
  runs = 0;
  constructor(turns?: () => Promise<boolean>, logger = pino({ level: 'silent' }), intervalMs = 1000) {
    super('counting', intervalMs, logger, turns);
  }
  protected async runOnce(): Promise<void> {
    this.runs++;
  }
}

class Slow extends PeriodicTask {
  constructor(
    turns: (() => Promise<boolean>) & { finished(ms: number): Promise<void> },
    logger = pino({ level: 'silent' }),
  ) {
    super('slow', 1000, logger, turns);
  }
  protected runOnce(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 2500));
  }
}

@Injectable()
class Failing extends PeriodicTask {
  constructor() {
    super('failing sweep', 1000, pino({ level: 'silent' }));
  }
  protected runOnce(): Promise<void> {
    return Promise.reject(new Error('the store did not answer'));
  }
}

describe('PeriodicTask', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs on every tick without turns, and only on the ticks whose turn it takes with them', async () => {
    const alone = new Counting();
    const answers = [true, false, true];
    const shared = new Counting(async () => answers.shift() ?? false);
    alone.onApplicationBootstrap();
    shared.onApplicationBootstrap();
    for (let tick = 0; tick < 3; tick++) await jest.advanceTimersByTimeAsync(1000);
    expect(alone.runs).toBe(3);
    expect(shared.runs).toBe(2);
    // An explicit run (a test, an operator) does not ask for a turn.
    await shared.runNow();
    expect(shared.runs).toBe(3);
    await alone.onApplicationShutdown();
    await shared.onApplicationShutdown();
  });

  it('tells its turns how long each timed run took (for pacing), and not of a run asked for outright', async () => {
    const took: number[] = [];
    let granted = 0;
    // One turn is granted (as SweepTurns does while a run holds the store's baton).
    const turns = Object.assign(async () => ++granted === 1, {
      finished: async (ms: number) => void took.push(ms),
    });
    const slow = new Slow(turns);
    slow.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(1000 + 2500);
    expect(took).toEqual([2500]);
    const explicit = slow.runNow();
    await jest.advanceTimersByTimeAsync(2500);
    await explicit;
    expect(took).toEqual([2500]);
    await slow.onApplicationShutdown();
  });

  it('leaves a turn granted while its run goes on to that run, and gives one granted while shutting down back unused', async () => {
    const took: Array<number | 'unused'> = [];
    let onAsk: () => void = () => undefined;
    const turns = Object.assign(
      async () => {
        onAsk();
        return true;
      },
      {
        finished: async (ms: number) => void took.push(ms),
        release: async () => void took.push('unused'),
      },
    );
    const slow = new Slow(turns);
    slow.onApplicationBootstrap();
    // Ticks at 1 s (the run, 2.5 s), and at 2 s and 3 s, turns granted while it runs.
    await jest.advanceTimersByTimeAsync(1000 + 2500);
    expect(took).toEqual([2500]);

    // A turn granted as shutdown begins (the tick at 4 s): given back, and shutdown waits for that.
    let shutdown: Promise<void> | undefined;
    onAsk = () => (shutdown = slow.onApplicationShutdown());
    await jest.advanceTimersByTimeAsync(500);
    await shutdown;
    expect(took).toEqual([2500, 'unused']);
  });

  it('asks again soon when another task’s run held the store, not a whole interval later', async () => {
    const asked: number[] = [];
    let busy = true;
    const turns = Object.assign(
      async () => {
        asked.push(Date.now());
        return !busy;
      },
      { storeBusy: () => busy },
    );
    const task = new Counting(turns, undefined, 600_000);
    task.onApplicationBootstrap();
    const start = Date.now();
    await jest.advanceTimersByTimeAsync(600_000); // the first tick: refused, the store busy
    busy = false;
    await jest.advanceTimersByTimeAsync(STORE_BUSY_RETRY_MS);
    expect(asked.map((t) => t - start)).toEqual([600_000, 600_000 + STORE_BUSY_RETRY_MS]);
    expect(task.runs).toBe(1);
    await task.onApplicationShutdown();
  });

  it('logs a timed run that took a second or more with its length, and not a quick one', async () => {
    const lines: Array<{ msg: string; task: string; ms: number }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const turns = Object.assign(async () => true, { finished: async () => undefined });
    const slow = new Slow(turns, logger);
    slow.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(1000 + 2500);
    await slow.onApplicationShutdown();
    expect(lines.map((l) => [l.msg, l.task, l.ms])).toEqual([['slow run', 'slow', 2500]]);

    const quick = new Counting(async () => true, logger);
    quick.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(1000);
    await quick.onApplicationShutdown();
    expect(quick.runs).toBe(1);
    expect(lines).toHaveLength(1);
  });

  it('counts each failed run by task, for the alert on a sweep that keeps failing', async () => {
    jest.useRealTimers();
    const metrics = new MetricsService('test');
    const moduleRef = await Test.createTestingModule({
      providers: [{ provide: MetricsService, useValue: metrics }, Failing],
    }).compile();
    const failing = moduleRef.get(Failing);
    await failing.runNow();
    await failing.runNow();
    expect(await metrics.render()).toContain(
      'maskline_periodic_task_failures_total{task="failing sweep",service="test"} 2',
    );
    await moduleRef.close();
  });
});
