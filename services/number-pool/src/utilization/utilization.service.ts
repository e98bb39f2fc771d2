import { Injectable } from '@nestjs/common';
import type { AccountScope, GetPoolUtilization, RpcReplyInputOf } from '@maskline/contracts';
import { HoldMaintenance } from '../allocation/hold-maintenance';
import { VirtualNumberRepository } from '../inventory/virtual-number.repository';
import { summarize } from './utilization-summary';

type Utilization = RpcReplyInputOf<typeof GetPoolUtilization>;

/** How well the pool is used: numbers in use against Δ, the floor any allocator must pay. */
@Injectable()
export class UtilizationService {
  constructor(
    private readonly maintenance: HoldMaintenance,
    private readonly numbers: VirtualNumberRepository,
  ) {}

  async forScope(scope: AccountScope): Promise<Utilization> {
    const owned = await this.numbers.activeForOwner(scope.accountId, scope.subaccountId ?? null);
    const ownedSet = new Set(owned.map((n) => n._id));
    const holds = (await this.maintenance.liveHolds(new Date(), scope.accountId)).filter(
      (h) => !scope.subaccountId || ownedSet.has(h.virtualNumber),
    );
    return { ...summarize(holds), numbersTotal: owned.length };
  }
}
