import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { isDuplicateKeyError } from '@maskline/persistence';
import { LIVE, type AllocationRecord, type Hold } from './hold';
import type { HoldStore } from './hold-store.port';
import { AllocationDocument, HoldDocument, HoldPointerDocument } from './hold.schema';

/** The allocator's store port on MongoDB / FerretDB. Filters on the hot path are `_id` alone. */
@Injectable()
export class MongoHoldStore implements HoldStore {
  constructor(
    @InjectModel(HoldDocument.name) private readonly holds: Model<HoldDocument>,
    @InjectModel(HoldPointerDocument.name) private readonly pointers: Model<HoldPointerDocument>,
    @InjectModel(AllocationDocument.name) private readonly allocations: Model<AllocationDocument>,
  ) {}

  async pointer(virtualNumber: string, party: string): Promise<string | null> {
    const doc = await this.pointers.findById(`${virtualNumber}|${party}`).lean().exec();
    return doc?.holdId ?? null;
  }

  async setPointer(virtualNumber: string, party: string, holdId: string): Promise<void> {
    try {
      await this.pointers
        .updateOne({ _id: `${virtualNumber}|${party}` }, { $set: { holdId } }, { upsert: true })
        .exec();
    } catch (err) {
      // Two upserts raced to create the pointer. It is only a hint: the other writer's value is
      // as good as ours (a stale hint costs a retry, never correctness).
      if (!isDuplicateKeyError(err)) throw err;
    }
  }

  async hold(holdId: string): Promise<Hold | null> {
    return (await this.holds.findById(holdId).lean().exec()) as Hold | null;
  }

  async insertHold(hold: Hold): Promise<boolean> {
    try {
      await this.holds.create(hold);
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  async findLiveHold(virtualNumber: string, party: string): Promise<Hold | null> {
    return (await this.holds
      .findOne({ virtualNumber, party, liveMarker: LIVE })
      .lean()
      .exec()) as Hold | null;
  }

  async releaseHold(hold: Hold, releasedAt: Date): Promise<void> {
    const blockedUntil = new Date(releasedAt.getTime() + hold.cooloffSeconds * 1000);
    const set: Partial<Hold> = { releasedAt, blockedUntil };
    if (hold.cooloffSeconds === 0) Object.assign(set, { liveMarker: hold._id, retiredAt: releasedAt });
    await this.updateById(hold._id, set);
  }

  async retireHold(holdId: string, at: Date): Promise<void> {
    await this.updateById(holdId, { liveMarker: holdId, retiredAt: at });
  }

  async deleteHold(holdId: string): Promise<void> {
    await this.holds.deleteOne({ _id: holdId }).exec();
  }

  async allocation(sessionId: string): Promise<AllocationRecord | null> {
    return (await this.allocations.findById(sessionId).lean().exec()) as AllocationRecord | null;
  }

  async insertAllocation(record: AllocationRecord): Promise<boolean> {
    try {
      await this.allocations.create(record);
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  async addAllocationHold(sessionId: string, party: string, holdId: string): Promise<void> {
    await this.allocations
      .updateOne({ _id: sessionId }, { $addToSet: { holdIds: holdId, parties: party } })
      .exec();
  }

  async markAllocationReleased(sessionId: string, at: Date): Promise<void> {
    await this.allocations.updateOne({ _id: sessionId }, { $set: { releasedAt: at } }).exec();
  }

  /**
   * An update keyed by the hold's UUID. If a concurrent write already retired it and a newer hold
   * holds the pair, the store refuses to make this one live again (unique index): that is fine,
   * the newer hold is the truth.
   */
  private async updateById(holdId: string, set: Partial<Hold>): Promise<void> {
    try {
      await this.holds.updateOne({ _id: holdId }, { $set: set }).exec();
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
  }
}
