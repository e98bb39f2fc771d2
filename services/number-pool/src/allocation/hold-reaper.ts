import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, MetricsService } from '@maskline/observability';
import { NUMBER_POOL_CONFIG, type NumberPoolConfig } from '../config/number-pool.config';
import { HoldMaintenance } from './hold-maintenance';

/**
 * Every REAPER_INTERVAL_MS: retires holds whose cool-off has ended (allocation also does this
 * lazily, so a pair is free the moment its cool-off ends) and purges retired records after
 * RETIRED_RETENTION_MS, a bounded batch at a time.
 */
@Injectable()
export class HoldReaper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly swept;

  constructor(
    private readonly maintenance: HoldMaintenance,
    @Inject(NUMBER_POOL_CONFIG) private readonly config: NumberPoolConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.swept = metrics.counter(
      'maskline_pool_reaper_records_total',
      'Holds retired or purged by the reaper',
      ['action'],
    );
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.sweep().finally(() => (this.running = undefined));
    }, this.config.REAPER_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async sweep(): Promise<void> {
    try {
      const now = new Date();
      const retired = await this.maintenance.retireExpired(now, 500);
      const purged = await this.maintenance.purge(
        new Date(now.getTime() - this.config.RETIRED_RETENTION_MS),
        1000,
      );
      this.swept.inc({ action: 'retired' }, retired);
      this.swept.inc({ action: 'purged' }, purged);
      if (retired + purged > 0) this.logger.debug({ retired, purged }, 'hold reaper sweep');
    } catch (err) {
      this.logger.warn({ err }, 'hold reaper sweep failed; will retry next interval');
    }
  }
}
