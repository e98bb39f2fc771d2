import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import {
  AccountScopedRepository,
  STATEMENT_BATCH,
  StatementBatcher,
  type ScopedKey,
} from '@maskline/persistence';
import type { AllocationRecord } from './hold';
import { AllocationDocument } from './hold.schema';

/** What the pool remembers per allocation, visible only to its account. */
@Injectable()
export class AllocationRepository extends AccountScopedRepository<AllocationDocument> {
  private readonly released: StatementBatcher<ScopedKey>;

  constructor(@InjectModel(AllocationDocument.name) model: Model<AllocationDocument>) {
    super(model);
    this.released = new StatementBatcher<ScopedKey>((keys) => this.deleteEachScoped(keys), STATEMENT_BATCH);
  }

  /** By `_id` (the allocation id). */
  async find(accountId: string, allocationId: string): Promise<AllocationRecord | null> {
    return this.findByIdScoped({ accountId }, allocationId);
  }

  /** False when the id is already recorded (for this account or another). */
  insert(record: AllocationRecord): Promise<boolean> {
    return this.insertUnlessTaken(record);
  }

  /**
   * A released allocation's store copy (KV keeps the released record). The releases that arrive
   * together go in one statement.
   */
  forgetReleased(accountId: string, allocationId: string): Promise<void> {
    return this.released.run({ accountId, _id: allocationId });
  }

  /** Takes back a record that lost to a release recorded first (see MongoHoldStore). */
  async remove(accountId: string, allocationId: string): Promise<void> {
    await this.deleteScoped({ accountId, _id: allocationId });
  }

  async save(record: AllocationRecord): Promise<void> {
    await this.updateOneScoped(
      { accountId: record.accountId, _id: record._id },
      { $set: { holdIds: record.holdIds, parties: record.parties, releasedAt: record.releasedAt } },
    );
  }

  /** The purge: released allocations older than the retention. Served by `{ releasedAt }`. */
  async purgeReleasedSystemWide(olderThan: Date, limit: number): Promise<number> {
    const stale = await this.systemWide.find({ releasedAt: { $ne: null, $lte: olderThan } }, { limit });
    return this.systemWide.deleteByIds(stale.map((a) => a._id));
  }
}
