import type { Logger } from 'pino';
import type { MetricsService } from '@maskline/observability';
import type { NumberPoolConfig } from '../config/number-pool.config';
import type { AllocationService } from './allocation.service';
import type { HoldMaintenance } from './hold-maintenance';
import { HoldReaper } from './hold-reaper';

/** A reaper whose upkeep steps record when they ran; `markers` is what the marker sweep does. */
function reaper(markers: () => Promise<number>) {
  const did: string[] = [];
  const maintenance = {
    retireExpired: async () => {
      did.push('retire');
      return 1;
    },
    purge: async () => {
      did.push('purge');
      return 0;
    },
    nextActiveHolds: async () => [],
    removeLeftPairMarkers: async () => {
      did.push('markers');
      return markers();
    },
  } as unknown as HoldMaintenance;
  const allocations = { releaseStrays: async () => 0 } as unknown as AllocationService;
  const logger = {
    info: () => undefined,
    warn: () => undefined,
    debug: () => undefined,
  } as unknown as Logger;
  const subject = new HoldReaper(
    maintenance,
    allocations,
    { REAPER_INTERVAL_MS: 5000, RETIRED_RETENTION_MS: 60_000 } as NumberPoolConfig,
    logger,
    { counter: () => ({ inc: () => undefined }) } as unknown as MetricsService,
    () => Date.now(),
  );
  const pass = () => (subject as unknown as { runOnce(): Promise<void> }).runOnce();
  return { pass, did };
}

describe('the hold reaper', () => {
  it('retires expired holds before it looks for an earlier release’s markers, so that a long marker sweep never holds back freed pairs', async () => {
    let finish!: (n: number) => void;
    const { pass, did } = reaper(() => new Promise<number>((resolve) => (finish = resolve)));
    const run = pass();
    // The sweep has started and not finished: retirement has already happened.
    await new Promise<void>((resolve) => {
      const check = () => (did.includes('markers') ? resolve() : setImmediate(check));
      check();
    });
    expect(did.slice(0, 2)).toEqual(['retire', 'purge']);
    finish(3);
    await run;
  });

  it('sweeps for markers on every run, not once a process (replicas of an earlier release write them during a rollout)', async () => {
    const { pass, did } = reaper(async () => 0);
    await pass();
    await pass();
    expect(did.filter((step) => step === 'markers')).toHaveLength(2);
  });

  it('fails the run when the sweep fails, after retiring (the base logs it; the next run reads the slice again)', async () => {
    const { pass, did } = reaper(async () => Promise.reject(new Error('timeout')));
    await expect(pass()).rejects.toThrow('timeout');
    expect(did).toContain('retire');
  });
});
