import { Injectable } from '@nestjs/common';
import type { KV } from 'nats';
import { KeyValueStores, createIfAbsent, kvDecode, kvEncode, updateAtRevision } from '@maskline/messaging';
import { AllocationRepository } from './allocation.repository';
import { sameHolds, type AllocationRecord, type Hold } from './hold';
import { HoldRepository } from './hold.repository';
import type { HoldStore, PairHint } from './hold-store.port';

/** KV buckets: pair hints (deleted when a hold retires) and allocation records (expire after 30 days). */
export const PAIR_HINTS_BUCKET = 'maskline-pool-pairs';
export const ALLOCATIONS_BUCKET = 'maskline-pool-allocations';
const ALLOCATION_TTL_MS = 30 * 24 * 3600 * 1000;
/**
 * How long a read or write of these buckets is asked again while nobody serves their stream (a
 * leader being elected after a NATS node was lost), instead of the 1.5 s made for a caller's 2 s:
 * number-pool's callers give it 5 s, and an allocation's other steps take a few milliseconds once
 * a leader answers. Given up at 1.5 s, elections that took longer answered creates 503 (chaos).
 */
const ELECTION_WAIT_MS = 3000;

type StoredAllocation = Omit<AllocationRecord, 'releasedAt' | 'createdAt'> & {
  releasedAt: number | null;
  createdAt: number;
};

/**
 * The allocator's store port in MongoDB/FerretDB (the unique index on holds is the arbiter of a
 * pair), with pair hints and allocation records in NATS KV (KV's create is the arbiter of an
 * allocation against a release that came first). The search for a number reads only hints and
 * inserts: FerretDB v1 answers every filtered update and delete with a table scan, but an insert
 * checks its unique indexes in O(log n). Releases update and delete by id, batched across the
 * releases that arrive together.
 */
@Injectable()
export class MongoHoldStore implements HoldStore {
  constructor(
    private readonly holds: HoldRepository,
    private readonly allocations: AllocationRepository,
    private readonly kv: KeyValueStores,
  ) {
    kv.declare(PAIR_HINTS_BUCKET, { noRespondersWithinMs: ELECTION_WAIT_MS });
    // One record a session created, kept 30 days: bounded by its shares of NATS, forgetting its
    // oldest first (a record KV forgot is read from the store while live; a released one only arbitrates
    // a release against an allocation still running, minutes at most).
    kv.declare(ALLOCATIONS_BUCKET, {
      ttlMs: ALLOCATION_TTL_MS,
      noRespondersWithinMs: ELECTION_WAIT_MS,
      storageShare: 'allocations',
    });
  }

  private pairs(): Promise<KV> {
    return this.kv.bucket(PAIR_HINTS_BUCKET);
  }

  private records(): Promise<KV> {
    return this.kv.bucket(ALLOCATIONS_BUCKET);
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
    // That revision alone, leaving nothing behind (a purge's marker is a key NATS keeps, forever in
    // a bucket without an age: one a pair ever used). A newer hint written meanwhile describes a
    // newer hold, and stays.
    await this.kv.forgetRevision(PAIR_HINTS_BUCKET, entry.revision);
  }

  removeLeftMarkers(
    position: number,
    atMost: number,
  ): Promise<{ removed: number; next: number; atEnd: boolean }> {
    return this.kv.removeDeleteMarkers(PAIR_HINTS_BUCKET, position, atMost);
  }

  insertHold(hold: Hold): Promise<boolean> {
    return this.holds.insert(hold);
  }

  deleteHold(accountId: string, holdId: string): Promise<void> {
    return this.holds.remove(accountId, holdId);
  }

  findLiveHold(virtualNumber: string, party: string): Promise<Hold | null> {
    return this.holds.liveOnPairSystemWide(virtualNumber, party);
  }

  async releaseHold(
    accountId: string,
    holdId: string,
    cooloffSeconds: number,
    releasedAt: Date,
  ): Promise<void> {
    if (cooloffSeconds === 0) await this.holds.retire(accountId, holdId);
    else await this.holds.release(accountId, holdId, cooloffSeconds, releasedAt);
  }

  retireHold(holdId: string): Promise<void> {
    return this.holds.retireSystemWide(holdId);
  }

  liveHoldsOf(accountId: string, allocationId: string): Promise<Hold[]> {
    return this.holds.liveOfAllocation(accountId, allocationId);
  }

  async knownAllocation(accountId: string, allocationId: string): Promise<AllocationRecord | null> {
    return (await this.recordInKv(accountId, allocationId))?.record ?? null;
  }

  async allocation(
    accountId: string,
    allocationId: string,
    options: { fresh?: boolean } = {},
  ): Promise<AllocationRecord | null> {
    const found = await this.recordInKv(accountId, allocationId, options.fresh);
    if (found) return found.record;
    // Not in KV (expired, or a crash between the store write and the KV write): ask the store.
    return this.allocations.find(accountId, allocationId);
  }

  /**
   * The KV copy of a record (`fresh`: as the bucket's leader holds it, not a replica that may lag):
   * undefined when KV has none; a null record when it is another account's.
   */
  private async recordInKv(
    accountId: string,
    allocationId: string,
    fresh = false,
  ): Promise<{ record: AllocationRecord | null } | undefined> {
    const entry = fresh
      ? await this.kv.leaderEntry(ALLOCATIONS_BUCKET, allocationId)
      : await (await this.records()).get(allocationId);
    if (!entry || entry.operation !== 'PUT') return undefined;
    const r = kvDecode<StoredAllocation>(entry.value);
    if (!r) return undefined;
    if (r.accountId !== accountId) return { record: null };
    return {
      record: {
        ...r,
        releasedAt: r.releasedAt ? new Date(r.releasedAt) : null,
        createdAt: new Date(r.createdAt),
      },
    };
  }

  /**
   * Records an allocation: the store's unique id first (two attempts of one allocation: one wins),
   * then KV's create, the arbiter against a release that came first (it left a released record
   * there, which outlives the store's copy). Losing either, nothing of this record stays.
   */
  async insertAllocation(record: AllocationRecord): Promise<boolean> {
    const kv = await this.records();
    if (!(await this.allocations.insert(record))) {
      // Recorded already. Its KV copy may be missing (a crash between the two writes): repair it.
      const stored = await this.allocations.find(record.accountId, record._id);
      if (stored) await createIfAbsent(kv, record._id, kvEncode(toStored(stored)));
      return false;
    }
    if (await createIfAbsent(kv, record._id, kvEncode(toStored(record)))) return true;
    // KV has a record under the id. This one, put there by a concurrent attempt that lost the store
    // insert and repaired KV from it: recorded. Anything else (a release that came first): lost.
    const there = await this.recordInKv(record.accountId, record._id);
    if (there?.record && !there.record.releasedAt && sameHolds(there.record, record)) return true;
    await this.allocations.remove(record.accountId, record._id);
    return false;
  }

  /**
   * By compare-and-set on KV's copy (at the revision that still holds the record as read; created,
   * where KV had forgotten it and the read was the store's), then the store's copy (an update, so a
   * copy a release has dropped is not brought back). A release puts its released record into KV
   * after it drops the store's copy: before this write, this write is refused; after it, the
   * release holds (its record never had this hold, which the stray check then releases).
   */
  async addPartyToAllocation(read: AllocationRecord, holdId: string, party: string): Promise<boolean> {
    const next: AllocationRecord = {
      ...read,
      holdIds: [...read.holdIds, holdId],
      parties: [...read.parties, party],
    };
    const kv = await this.records();
    // As the leader holds it: a replica's lagging copy would refuse this write again and again.
    const entry = await this.kv.leaderEntry(ALLOCATIONS_BUCKET, read._id);
    const value = kvEncode(toStored(next));
    let written: boolean;
    if (entry?.operation === 'PUT') {
      const there = kvDecode<StoredAllocation>(entry.value);
      const unchanged =
        there?.accountId === read.accountId && there.releasedAt === null && sameHolds(there, read);
      written = unchanged && (await updateAtRevision(kv, read._id, value, entry.revision));
    } else {
      written = await createIfAbsent(kv, read._id, value);
    }
    if (written) await this.allocations.save(next);
    return written;
  }

  /**
   * The store's copy goes first (the store keeps only live allocations, so its size is what is
   * live), then KV says released (where retries and late allocations look, for 30 days). Until KV
   * says so, its live record makes a late insert lose; a crash in between leaves KV live, and the
   * release, retried, does it all again.
   */
  async releaseAllocation(record: AllocationRecord, at: Date): Promise<void> {
    await this.allocations.forgetReleased(record.accountId, record._id);
    await this.putRecord({ ...record, parties: [], releasedAt: at });
  }

  private async putRecord(record: AllocationRecord): Promise<void> {
    await (await this.records()).put(record._id, kvEncode(toStored(record)));
  }
}

function toStored(record: AllocationRecord): StoredAllocation {
  return {
    ...record,
    releasedAt: record.releasedAt ? record.releasedAt.getTime() : null,
    createdAt: record.createdAt.getTime(),
  };
}

/** KV keys allow letters, digits and `-/_=.`: E.164 digits without the `+`. */
export function pairKey(virtualNumber: string, party: string): string {
  return `p.${virtualNumber.replace(/\D/g, '')}.${party.replace(/\D/g, '')}`;
}
