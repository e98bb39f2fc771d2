import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AccountScope, GetPoolUtilization, RpcReplyInputOf } from '@maskline/contracts';
import { MetricsService } from '@maskline/observability';
import { HoldMaintenance } from '../allocation/hold-maintenance';
import { VirtualNumberRepository } from '../inventory/virtual-number.repository';

type Utilization = RpcReplyInputOf<typeof GetPoolUtilization>;

/** How well the pool is used: numbers in use against Δ, the floor any allocator must pay. */
@Injectable()
export class UtilizationService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private readonly gauges;

  constructor(
    private readonly maintenance: HoldMaintenance,
    private readonly numbers: VirtualNumberRepository,
    metrics: MetricsService,
  ) {
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

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.refreshMetrics().catch(() => undefined), 30_000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async forScope(scope: AccountScope): Promise<Utilization> {
    const owned = await this.numbers.activeForOwner(scope.accountId, scope.subaccountId ?? null);
    const ownedSet = new Set(owned.map((n) => n._id));
    const holds = (await this.maintenance.liveHolds(new Date(), scope.accountId)).filter(
      (h) => !scope.subaccountId || ownedSet.has(h.virtualNumber),
    );
    return { ...summarize(holds), numbersTotal: owned.length };
  }

  private async refreshMetrics(): Promise<void> {
    const holds = await this.maintenance.liveHolds(new Date());
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

export function summarize(holds: Array<{ virtualNumber: string; party: string; allocationId: string }>) {
  const sessionsPerNumber = new Map<string, Set<string>>();
  const perParty = new Map<string, number>();
  const sessions = new Set<string>();
  for (const h of holds) {
    sessions.add(h.allocationId);
    const set = sessionsPerNumber.get(h.virtualNumber) ?? new Set<string>();
    set.add(h.allocationId);
    sessionsPerNumber.set(h.virtualNumber, set);
    perParty.set(h.party, (perParty.get(h.party) ?? 0) + 1);
  }
  const counts = [...sessionsPerNumber.values()].map((s) => s.size);
  const delta = Math.max(0, ...perParty.values());
  return {
    numbersInUse: sessionsPerNumber.size,
    liveSessions: sessions.size,
    sessionsPerNumber: {
      max: Math.max(0, ...counts),
      mean:
        counts.length === 0 ? 0 : Math.round((counts.reduce((a, b) => a + b, 0) / counts.length) * 100) / 100,
    },
    delta,
    plivoRuleNumbers: delta === 0 ? 0 : 2 * delta - 1,
  };
}
