import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, MetricsService } from '@maskline/observability';
import { CLOCK, PeriodicTask, type Clock } from '@maskline/service-kit';
import { NUMBER_POOL_CONFIG, type NumberPoolConfig } from '../config/number-pool.config';
import { AllocationService } from './allocation.service';
import { HoldMaintenance } from './hold-maintenance';

/** The stray check reads every active hold: one run in this many (a minute at the default interval). */
const STRAY_CHECK_EVERY_RUNS = 12;
/** Active holds whose allocation is looked up in KV per check. */
const STRAY_CHECKS_PER_RUN = 200;
/**
 * Pair hints read per run for markers an earlier release left: a million in under ten minutes at
 * the default interval, each run's slice a few seconds at most.
 */
const PAIR_MARKER_SLICE = 10_000;

/**
 * Every REAPER_INTERVAL_MS: retires (deletes) holds whose cool-off has ended (allocation also does
 * this lazily, so a pair is free the moment its cool-off ends), purges retired holds an earlier
 * version kept, purges release tombstones after RETIRED_RETENTION_MS, a bounded batch at a time, and
 * releases stray holds of released allocations (AllocationService.releaseStrays), a few hundred
 * holds looked at every twelfth run.
 */
@Injectable()
export class HoldReaper extends PeriodicTask {
  private runs = 0;
  private readonly swept;

  constructor(
    private readonly maintenance: HoldMaintenance,
    private readonly allocations: AllocationService,
    @Inject(NUMBER_POOL_CONFIG) private readonly config: NumberPoolConfig,
    @Inject(LOGGER) logger: Logger,
    metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    super('hold reaper', config.REAPER_INTERVAL_MS, logger);
    this.swept = metrics.counter(
      'maskline_pool_reaper_records_total',
      'Holds retired or purged by the reaper',
      ['action'],
    );
  }

  protected async runOnce(): Promise<void> {
    const now = new Date(this.clock());
    const retired = await this.maintenance.retireExpired(now, 500);
    // `holds` and `allocations` hold what is live (every release writes to them, a scan on
    // FerretDB): retired holds and released allocations leave at once. What is left to purge is
    // retired holds an earlier version kept and release tombstones past RETIRED_RETENTION_MS.
    const purged = await this.maintenance.purge(
      now,
      new Date(now.getTime() - this.config.RETIRED_RETENTION_MS),
      1000,
    );
    const strays =
      ++this.runs % STRAY_CHECK_EVERY_RUNS === 0
        ? await this.allocations.releaseStrays(await this.maintenance.nextActiveHolds(STRAY_CHECKS_PER_RUN))
        : 0;
    if (strays > 0) this.logger.warn({ released: strays }, 'released live holds of released allocations');
    this.swept.inc({ action: 'stray-released' }, strays);
    this.swept.inc({ action: 'retired' }, retired);
    this.swept.inc({ action: 'purged' }, purged);
    if (retired + purged > 0) this.logger.debug({ retired, purged }, 'hold reaper sweep');
    // Last, so that it never holds back what frees pairs: what an earlier release left of cleared
    // pair hints (this one leaves none), a slice a run.
    const markers = await this.maintenance.removeLeftPairMarkers(PAIR_MARKER_SLICE);
    if (markers > 0) this.logger.info({ removed: markers }, 'removed the markers of cleared pair hints');
    this.swept.inc({ action: 'pair-marker-removed' }, markers);
  }
}
