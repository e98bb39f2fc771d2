import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { LIVE, type Hold } from './hold';
import { AllocationDocument, HoldDocument } from './hold.schema';
import { HOLD_STORE } from './hold-store.token';
import type { HoldStore } from './hold-store.port';

/**
 * Background upkeep of the holds collection, off the allocation path. Every step is idempotent,
 * so all replicas may run it at once.
 */
@Injectable()
export class HoldMaintenance {
  constructor(
    @InjectModel(HoldDocument.name) private readonly holds: Model<HoldDocument>,
    @InjectModel(AllocationDocument.name) private readonly allocations: Model<AllocationDocument>,
    @Inject(HOLD_STORE) private readonly store: HoldStore,
  ) {}

  /** Retires live holds whose cool-off has ended, freeing their pairs. */
  async retireExpired(now: Date, limit: number): Promise<number> {
    const due = await this.holds
      .find({ liveMarker: LIVE, blockedUntil: { $ne: null, $lte: now } })
      .limit(limit)
      .lean()
      .exec();
    for (const h of due) {
      await this.store.retireHold(h._id, now);
      await this.store.clearPairHint(h.virtualNumber, h.party, h._id);
    }
    return due.length;
  }

  /** Deletes retired holds and released allocations older than the retention. */
  async purge(olderThan: Date, limit: number): Promise<number> {
    const old = (await this.holds
      .find({ retiredAt: { $ne: null, $lte: olderThan } })
      .limit(limit)
      .lean()
      .exec()) as Hold[];
    for (const h of old) {
      if (h.liveMarker === LIVE) continue;
      await this.holds.deleteOne({ _id: h._id }).exec();
    }
    const stale = await this.allocations
      .find({ releasedAt: { $ne: null, $lte: olderThan } })
      .limit(limit)
      .lean()
      .exec();
    for (const a of stale) await this.allocations.deleteOne({ _id: a._id }).exec();
    return old.length + stale.length;
  }

  /** Live holds blocking their pair now, for utilization (a scan: never on the allocation path). */
  async liveHolds(
    now: Date,
    accountId?: string,
  ): Promise<Array<Pick<Hold, 'accountId' | 'virtualNumber' | 'party' | 'allocationId'>>> {
    const filter: Record<string, unknown> = { liveMarker: LIVE };
    if (accountId) filter.accountId = accountId;
    const rows = (await this.holds.find(filter).lean().exec()) as Hold[];
    return rows.filter((h) => h.blockedUntil === null || h.blockedUntil > now);
  }
}
