import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { KV } from 'nats';
import type { Model } from 'mongoose';
import { KeyValueStores, kvDecode, kvEncode } from '@maskline/messaging';
import { isDuplicateKeyError } from '@maskline/persistence';
import { LIVE, type AllocationRecord, type Hold } from './hold';
import type { HoldStore, PairHint } from './hold-store.port';
import { AllocationDocument, HoldDocument } from './hold.schema';

/** KV buckets: pair hints (deleted when a hold retires) and allocation records (expire after 30 days). */
export const PAIR_HINTS_BUCKET = 'maskline-pool-pairs';
export const ALLOCATIONS_BUCKET = 'maskline-pool-allocations';
const ALLOCATION_TTL_MS = 30 * 24 * 3600 * 1000;

type StoredAllocation = Omit<AllocationRecord, 'releasedAt' | 'createdAt'> & {
  releasedAt: number | null;
  createdAt: number;
};

/**
 * The allocator's store port: holds and allocation records in MongoDB/FerretDB (the unique index
 * is the arbiter), pair hints and allocation records for fast lookup in NATS KV. On the allocation
 * path the store only sees inserts: FerretDB v1 answers every find, update and delete with a
 * table scan, but an insert checks its unique indexes in O(log n).
 */
@Injectable()
export class MongoHoldStore implements HoldStore {
  constructor(
    @InjectModel(HoldDocument.name) private readonly holds: Model<HoldDocument>,
    @InjectModel(AllocationDocument.name) private readonly allocations: Model<AllocationDocument>,
    private readonly kv: KeyValueStores,
  ) {}

  private pairs(): Promise<KV> {
    return this.kv.bucket(PAIR_HINTS_BUCKET);
  }

  private records(): Promise<KV> {
    return this.kv.bucket(ALLOCATIONS_BUCKET, { ttlMs: ALLOCATION_TTL_MS });
  }

  async pairHint(virtualNumber: string, party: string): Promise<PairHint | null> {
    const entry = await (await this.pairs()).get(pairKey(virtualNumber, party));
    return entry && entry.operation === 'PUT' ? kvDecode<PairHint>(entry.value) : null;
  }

  async setPairHint(virtualNumber: string, party: string, hint: PairHint): Promise<void> {
    await (await this.pairs()).put(pairKey(virtualNumber, party), kvEncode(hint));
  }

  async clearPairHint(virtualNumber: string, party: string, holdId: string): Promise<void> {
    const kv = await this.pairs();
    const key = pairKey(virtualNumber, party);
    const entry = await kv.get(key);
    if (!entry || entry.operation !== 'PUT' || kvDecode<PairHint>(entry.value)?.holdId !== holdId) return;
    try {
      await kv.purge(key, { previousSeq: entry.revision });
    } catch {
      // A newer hint was written meanwhile: it describes a newer hold, keep it.
    }
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

  async deleteHold(holdId: string): Promise<void> {
    await this.holds.deleteOne({ _id: holdId }).exec();
  }

  async findLiveHold(virtualNumber: string, party: string): Promise<Hold | null> {
    return (await this.holds
      .findOne({ virtualNumber, party, liveMarker: LIVE })
      .lean()
      .exec()) as Hold | null;
  }

  async releaseHold(holdId: string, cooloffSeconds: number, releasedAt: Date): Promise<void> {
    const blockedUntil = new Date(releasedAt.getTime() + cooloffSeconds * 1000);
    const set: Partial<Hold> = { releasedAt, blockedUntil };
    if (cooloffSeconds === 0) Object.assign(set, { liveMarker: holdId, retiredAt: releasedAt });
    await this.updateById(holdId, set);
  }

  async retireHold(holdId: string, at: Date): Promise<void> {
    await this.updateById(holdId, { liveMarker: holdId, retiredAt: at });
  }

  async allocation(allocationId: string): Promise<AllocationRecord | null> {
    const entry = await (await this.records()).get(allocationId);
    if (entry && entry.operation === 'PUT') {
      const r = kvDecode<StoredAllocation>(entry.value);
      if (r)
        return {
          ...r,
          releasedAt: r.releasedAt ? new Date(r.releasedAt) : null,
          createdAt: new Date(r.createdAt),
        };
    }
    // Not in KV (expired, or a crash between the store write and the KV write): ask the store.
    return (await this.allocations.findById(allocationId).lean().exec()) as AllocationRecord | null;
  }

  async insertAllocation(record: AllocationRecord): Promise<boolean> {
    try {
      await this.allocations.create(record);
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
    await this.putRecord(record);
    return true;
  }

  async saveAllocation(record: AllocationRecord): Promise<void> {
    await this.allocations
      .updateOne(
        { _id: record._id },
        { $set: { holdIds: record.holdIds, parties: record.parties, releasedAt: record.releasedAt } },
      )
      .exec();
    await this.putRecord(record);
  }

  private async putRecord(record: AllocationRecord): Promise<void> {
    const stored: StoredAllocation = {
      ...record,
      releasedAt: record.releasedAt ? record.releasedAt.getTime() : null,
      createdAt: record.createdAt.getTime(),
    };
    await (await this.records()).put(record._id, kvEncode(stored));
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

/** KV keys allow letters, digits and `-/_=.`: E.164 digits without the `+`. */
export function pairKey(virtualNumber: string, party: string): string {
  return `p.${virtualNumber.replace(/\D/g, '')}.${party.replace(/\D/g, '')}`;
}
