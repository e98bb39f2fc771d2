import { Inject, Injectable } from '@nestjs/common';
import type { Hold } from './hold';
import { AllocationRepository } from './allocation.repository';
import { HoldRepository } from './hold.repository';
import { HOLD_STORE } from './hold-store.token';
import type { HoldStore } from './hold-store.port';

/**
 * Background upkeep of the holds collection, off the allocation path. Every step is idempotent,
 * so all replicas may run it at once.
 */
@Injectable()
export class HoldMaintenance {
  constructor(
    private readonly holds: HoldRepository,
    private readonly allocations: AllocationRepository,
    @Inject(HOLD_STORE) private readonly store: HoldStore,
  ) {}

  /** Retires live holds whose cool-off has ended, freeing their pairs. */
  async retireExpired(now: Date, limit: number): Promise<number> {
    const due = await this.holds.dueForRetirementSystemWide(now, limit);
    // Together, so that the retirements go in one statement.
    await Promise.all(
      due.map(async (h) => {
        await this.store.retireHold(h._id, now);
        await this.store.clearPairHint(h.virtualNumber, h.party, h._id);
      }),
    );
    return due.length;
  }

  /**
   * Deletes retired holds (retired before `holdsRetiredBefore`) and released allocations (released
   * before `allocationsReleasedBefore`).
   */
  async purge(holdsRetiredBefore: Date, allocationsReleasedBefore: Date, limit: number): Promise<number> {
    return (
      (await this.holds.purgeRetiredSystemWide(holdsRetiredBefore, limit)) +
      (await this.allocations.purgeReleasedSystemWide(allocationsReleasedBefore, limit))
    );
  }

  /** Live holds blocking their pair now, of one account or (for metrics) of all. */
  async liveHolds(
    now: Date,
    accountId?: string,
  ): Promise<Array<Pick<Hold, 'accountId' | 'virtualNumber' | 'party' | 'allocationId' | 'blockedUntil'>>> {
    const rows = accountId ? await this.holds.liveOfAccount(accountId) : await this.holds.liveSystemWide();
    return rows.filter((h) => h.blockedUntil === null || h.blockedUntil > now);
  }
}
