import type { AllocationRecord, Hold } from './hold';

/** What a replica believes about a (virtual number, party) pair. Never trusted for correctness. */
export interface PairHint {
  holdId: string;
  allocationId: string;
  /** Epoch ms when the pair's cool-off ends; null while the session is active. */
  blockedUntil: number | null;
}

/**
 * Storage the allocator needs. The allocation path reads only hints (O(1) key-value gets) and
 * writes only inserts; correctness rests on `insertHold` refusing a second live hold for a pair,
 * which the store enforces with a unique index. Other operations run when a session ends or in
 * the background.
 */
export interface HoldStore {
  pairHint(virtualNumber: string, party: string): Promise<PairHint | null>;
  setPairHint(virtualNumber: string, party: string, hint: PairHint): Promise<void>;
  /** Removes the hint if it still describes `holdId` (a newer hold's hint is kept). */
  clearPairHint(virtualNumber: string, party: string, holdId: string): Promise<void>;

  /** Inserts a live hold; false when the pair already has a live hold. */
  insertHold(hold: Hold): Promise<boolean>;
  /** Undoes a claim that never became part of a session. */
  deleteHold(holdId: string): Promise<void>;
  /** The pair's live hold by secondary lookup: only where a conflict is itself the answer. */
  findLiveHold(virtualNumber: string, party: string): Promise<Hold | null>;
  /** Marks released: blocked until `releasedAt + cool-off`; retired at once when there is none. */
  releaseHold(holdId: string, cooloffSeconds: number, releasedAt: Date): Promise<void>;
  /** Frees the pair: the hold stops being live. */
  retireHold(holdId: string, at: Date): Promise<void>;

  allocation(allocationId: string): Promise<AllocationRecord | null>;
  /** False when the session already has a record. */
  insertAllocation(record: AllocationRecord): Promise<boolean>;
  saveAllocation(record: AllocationRecord): Promise<void>;
}
