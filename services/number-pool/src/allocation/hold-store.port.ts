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
  /** Removes the hint if it still describes `holdId` (a newer hold's hint is kept), leaving nothing. */
  clearPairHint(virtualNumber: string, party: string, holdId: string): Promise<void>;
  /**
   * Removes what an earlier release left of cleared hints (a marker a pair ever used) among the
   * hints written after `position`, at most `atMost` of them read: how many it removed, the
   * position the next call goes on from, and whether it read to the last hint.
   */
  removeLeftMarkers(
    position: number,
    atMost: number,
  ): Promise<{ removed: number; next: number; atEnd: boolean }>;

  /** Inserts a live hold; false when the pair already has a live hold. */
  insertHold(hold: Hold): Promise<boolean>;
  /** Undoes a claim of the account that never became part of a session. */
  deleteHold(accountId: string, holdId: string): Promise<void>;
  /**
   * The pair's live hold by secondary lookup: only where a conflict is itself the answer. The
   * pair is the carrier's, so this looks across accounts (a previous owner's hold still blocks).
   */
  findLiveHold(virtualNumber: string, party: string): Promise<Hold | null>;
  /** Marks the account's hold released: blocked until `releasedAt + cool-off`; retired (gone) at once when there is none. */
  releaseHold(accountId: string, holdId: string, cooloffSeconds: number, releasedAt: Date): Promise<void>;
  /** Frees the pair once its cool-off is over (system work: whoever's hold it was); the hold is gone. */
  retireHold(holdId: string, at: Date): Promise<void>;

  /**
   * The account's live holds claimed under an allocation id (a secondary lookup, by the
   * `{ allocationId }` index): only to release an allocation that was never recorded.
   */
  liveHoldsOf(accountId: string, allocationId: string): Promise<Hold[]>;

  /**
   * The account's allocation record from the fast copy alone (no store read): what an allocation
   * checks first. A record the copy lacks is caught by `insertAllocation` refusing the id.
   */
  knownAllocation(accountId: string, allocationId: string): Promise<AllocationRecord | null>;
  /**
   * The account's allocation record (the fast copy, then the store); another account's id finds
   * nothing. `fresh`: the fast copy as its leader holds it (after a write refused as stale).
   */
  allocation(
    accountId: string,
    allocationId: string,
    options?: { fresh?: boolean },
  ): Promise<AllocationRecord | null>;
  /**
   * False when the allocation id is already recorded (by any account), or a release of it came
   * first; then nothing of this record stays.
   */
  insertAllocation(record: AllocationRecord): Promise<boolean>;
  /**
   * Adds a party and its hold to the record as `read` it: false, writing nothing, when the record
   * has changed since (a release, another add). A release that comes between the read and this write
   * is never undone by it.
   */
  addPartyToAllocation(read: AllocationRecord, holdId: string, party: string): Promise<boolean>;
  /** Marks the account's record released at `at` and drops its parties' numbers. */
  releaseAllocation(record: AllocationRecord, at: Date): Promise<void>;
}
