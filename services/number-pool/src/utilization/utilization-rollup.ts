import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { UTILIZATION_HISTORY_HOURS } from '@maskline/contracts';
import { LOGGER } from '@maskline/observability';
import { CLOCK, PeriodicTask, type Clock } from '@maskline/service-kit';
import { HoldMaintenance } from '../allocation/hold-maintenance';
import { NUMBER_POOL_CONFIG, type NumberPoolConfig } from '../config/number-pool.config';
import { VirtualNumberRepository } from '../inventory/virtual-number.repository';
import { ExhaustionCounter, MINUTE_MS } from './exhaustion-counter';
import { ExhaustionMinutes, UtilizationMinutes } from './utilization-history.repository';
import type { UtilizationMinuteDocument } from './utilization-minute.schema';
import { utilizationOfScope } from './utilization-summary';

/** Samples are kept an hour beyond the history any query may ask for. */
const KEEP_MS = (UTILIZATION_HISTORY_HOURS + 1) * 3600_000;

/**
 * Once a minute on every replica: one sample of every owner's pool use (two reads of bounded
 * collections, numbers and live holds, whatever the history), inserted under owner and minute so
 * the first replica's sample stands; this replica's refusal counts; and the purge of old minutes.
 */
@Injectable()
export class UtilizationRollup extends PeriodicTask implements OnApplicationBootstrap {
  private readonly replica = randomUUID().slice(0, 8);
  private flushes = 0;

  constructor(
    private readonly numbers: VirtualNumberRepository,
    private readonly maintenance: HoldMaintenance,
    private readonly minutes: UtilizationMinutes,
    private readonly exhaustions: ExhaustionMinutes,
    private readonly counter: ExhaustionCounter,
    @Inject(NUMBER_POOL_CONFIG) config: NumberPoolConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) logger: Logger,
  ) {
    super('utilization rollup', config.UTILIZATION_ROLLUP_INTERVAL_MS, logger);
  }

  override onApplicationBootstrap(): void {
    super.onApplicationBootstrap();
    void this.runNow();
  }

  protected async runOnce(): Promise<void> {
    const now = this.clock();
    await this.sample(now);
    await this.flushExhaustions();
    await this.minutes.purgeSystemWide(new Date(now - KEEP_MS));
    await this.exhaustions.purgeSystemWide(new Date(now - KEEP_MS));
  }

  private async sample(now: number): Promise<void> {
    const minute = new Date(Math.floor(now / MINUTE_MS) * MINUTE_MS);
    const [numbers, holds] = await Promise.all([
      this.numbers.activeSystemWide(),
      this.maintenance.liveHolds(),
    ]);
    const numbersOf = groupBy(numbers, (n) => n.accountId);
    const holdsOf = groupBy(holds, (h) => h.accountId);
    const owners = new Map<string, { accountId: string; subaccountId: string | null }>();
    for (const n of numbers) owners.set(`${n.accountId}|${n.subaccountId ?? ''}`, n);
    const docs: UtilizationMinuteDocument[] = [...owners.values()].map(({ accountId, subaccountId }) => {
      const u = utilizationOfScope(
        numbersOf.get(accountId) ?? [],
        holdsOf.get(accountId) ?? [],
        subaccountId ?? null,
      );
      return {
        _id: `${accountId}:${subaccountId ?? '-'}:${minute.toISOString()}`,
        accountId,
        subaccountId: subaccountId ?? null,
        minute,
        numbersTotal: u.numbersTotal,
        numbersInUse: u.numbersInUse,
        liveSessions: u.liveSessions,
        delta: u.delta,
      };
    });
    await this.minutes.record(docs);
  }

  private async flushExhaustions(): Promise<void> {
    const counts = this.counter.take();
    if (counts.length === 0) return;
    const flush = ++this.flushes;
    try {
      await this.exhaustions.record(
        counts.map((c) => ({
          _id: `${this.replica}:${flush}:${c.accountId}:${c.subaccountId ?? '-'}:${c.minute}`,
          accountId: c.accountId,
          subaccountId: c.subaccountId,
          minute: new Date(c.minute),
          count: c.count,
        })),
      );
    } catch (err) {
      // Not written (or not known to be): counted again next time. A partial write may count twice.
      this.counter.restore(counts);
      throw err;
    }
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
