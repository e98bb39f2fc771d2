import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, MetricsService } from '@maskline/observability';
import { PeriodicTask } from '@maskline/service-kit';
import { HoldMaintenance } from '../allocation/hold-maintenance';
import { summarize } from './utilization-summary';

const REFRESH_MS = 30_000;

/** Every 30 s: the pool's use per account as gauges (a failed refresh is logged and tried again). */
@Injectable()
export class UtilizationMetrics extends PeriodicTask {
  private readonly gauges;

  constructor(
    private readonly maintenance: HoldMaintenance,
    @Inject(LOGGER) logger: Logger,
    metrics: MetricsService,
  ) {
    super('utilization metrics', REFRESH_MS, logger);
    this.gauges = {
      inUse: metrics.gauge('maskline_pool_numbers_in_use', 'Virtual numbers with at least one live session', [
        'account',
      ]),
      delta: metrics.gauge('maskline_pool_delta', 'Most live sessions (incl. cool-off) held by one party', [
        'account',
      ]),
      maxPerNumber: metrics.gauge(
        'maskline_pool_sessions_per_number_max',
        'Most live sessions on one number',
        ['account'],
      ),
      live: metrics.gauge('maskline_pool_live_sessions', 'Live sessions (incl. cool-off)', ['account']),
    };
  }

  protected async runOnce(): Promise<void> {
    const holds = await this.maintenance.liveHolds();
    const byAccount = new Map<string, typeof holds>();
    for (const h of holds) byAccount.set(h.accountId, [...(byAccount.get(h.accountId) ?? []), h]);
    for (const [account, list] of byAccount) {
      const s = summarize(list);
      this.gauges.inUse.set({ account }, s.numbersInUse);
      this.gauges.delta.set({ account }, s.delta);
      this.gauges.maxPerNumber.set({ account }, s.sessionsPerNumber.max);
      this.gauges.live.set({ account }, s.liveSessions);
    }
  }
}
