import { Injectable } from '@nestjs/common';
import type { AccountScope, GetPoolUtilization, RpcReplyInputOf } from '@maskline/contracts';
import { HoldMaintenance } from '../allocation/hold-maintenance';
import { VirtualNumberRepository } from '../inventory/virtual-number.repository';
import { utilizationOfScope } from './utilization-summary';

type Utilization = RpcReplyInputOf<typeof GetPoolUtilization>;

/** How well the pool is used: numbers in use against Δ, the floor any allocator must pay. */
@Injectable()
export class UtilizationService {
  constructor(
    private readonly maintenance: HoldMaintenance,
    private readonly numbers: VirtualNumberRepository,
  ) {}

  async forScope(scope: AccountScope): Promise<Utilization> {
    const subaccountId = scope.subaccountId ?? null;
    const [owned, holds] = await Promise.all([
      this.numbers.activeForOwner(scope.accountId, subaccountId),
      this.maintenance.liveHolds(scope.accountId),
    ]);
    return utilizationOfScope(owned, holds, subaccountId);
  }
}
