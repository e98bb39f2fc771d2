import { Controller, Inject } from '@nestjs/common';
import { GetPoolUtilization, GetUtilizationHistory, type RpcParsedRequestOf } from '@maskline/contracts';
import { RpcHandler } from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { ExhaustionMinutes, UtilizationMinutes } from './utilization-history.repository';
import { UtilizationService } from './utilization.service';

@Controller()
export class UtilizationNatsController {
  constructor(
    private readonly utilization: UtilizationService,
    private readonly minutes: UtilizationMinutes,
    private readonly exhaustions: ExhaustionMinutes,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @RpcHandler(GetPoolUtilization)
  get(request: RpcParsedRequestOf<typeof GetPoolUtilization>) {
    return this.utilization.forScope(request.scope);
  }

  /** The stored minutes, then the pool as it is now (so the history always ends at the present). */
  @RpcHandler(GetUtilizationHistory)
  async history(request: RpcParsedRequestOf<typeof GetUtilizationHistory>) {
    const now = this.clock();
    const since = new Date(now - request.hours * 3600_000);
    const { accountId } = request.scope;
    const subaccountId = request.scope.subaccountId ?? null;
    const [minutes, refusals, current] = await Promise.all([
      this.minutes.since(accountId, subaccountId, since),
      this.exhaustions.since(accountId, subaccountId, since),
      this.utilization.forScope(request.scope),
    ]);
    const perMinute = new Map<number, number>();
    for (const r of refusals)
      perMinute.set(r.minute.getTime(), (perMinute.get(r.minute.getTime()) ?? 0) + r.count);
    return {
      points: [
        ...minutes.map((m) => ({
          at: m.minute.toISOString(),
          numbersTotal: m.numbersTotal,
          numbersInUse: m.numbersInUse,
          liveSessions: m.liveSessions,
          delta: m.delta,
        })),
        {
          at: new Date(now).toISOString(),
          numbersTotal: current.numbersTotal,
          numbersInUse: current.numbersInUse,
          liveSessions: current.liveSessions,
          delta: current.delta,
        },
      ],
      exhaustions: [...perMinute]
        .sort(([a], [b]) => a - b)
        .map(([minute, count]) => ({ at: new Date(minute).toISOString(), count })),
    };
  }
}
