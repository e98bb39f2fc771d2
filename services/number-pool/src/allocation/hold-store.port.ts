import type { AllocationRecord, Hold } from './hold';

/**
 * Storage the allocator needs. Every operation on the hot path is a point operation by key
 * (FerretDB answers only `_id` lookups from an index); correctness rests on `insertHold`
 * refusing a second live hold for a pair, which the store enforces with a unique index.
 */
export interface HoldStore {
  /** The hold id last recorded for a pair: a hint, possibly stale or missing. */
  pointer(virtualNumber: string, party: string): Promise<string | null>;
  setPointer(virtualNumber: string, party: string, holdId: string): Promise<void>;
  hold(holdId: string): Promise<Hold | null>;
  /** Inserts a live hold; false when the pair already has a live hold. */
  insertHold(hold: Hold): Promise<boolean>;
  /** The pair's live hold by secondary lookup: the slow path, only after a conflict. */
  findLiveHold(virtualNumber: string, party: string): Promise<Hold | null>;
  /** Marks released: blocked until `releasedAt + cool-off`, retired at once when there is none. */
  releaseHold(hold: Hold, releasedAt: Date): Promise<void>;
  /** Frees the pair: the hold stops being live. */
  retireHold(holdId: string, at: Date): Promise<void>;
  /** Undoes a claim that never became part of a session. */
  deleteHold(holdId: string): Promise<void>;

  allocation(sessionId: string): Promise<AllocationRecord | null>;
  /** False when the session already has a record. */
  insertAllocation(record: AllocationRecord): Promise<boolean>;
  addAllocationHold(sessionId: string, party: string, holdId: string): Promise<void>;
  markAllocationReleased(sessionId: string, at: Date): Promise<void>;
}
