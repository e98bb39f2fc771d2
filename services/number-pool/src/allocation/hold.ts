/** `liveMarker` of a live hold (active, or released and still inside its cool-off). */
export const LIVE = 'L';

/**
 * One party's claim on one virtual number for one session. The store's unique index on
 * (virtualNumber, party, liveMarker) allows one live hold per pair. A retired hold is deleted (an
 * earlier version kept it with its own id as marker, so retired holds never collided).
 */
export interface Hold {
  _id: string;
  accountId: string;
  allocationId: string;
  virtualNumber: string;
  party: string;
  liveMarker: string;
  cooloffSeconds: number;
  createdAt: Date;
  releasedAt: Date | null;
  blockedUntil: Date | null;
  retiredAt: Date | null;
}

/** What the pool remembers per session: the number and the holds, so retries and release are point lookups. */
export interface AllocationRecord {
  _id: string;
  accountId: string;
  virtualNumber: string;
  holdIds: string[];
  parties: string[];
  cooloffSeconds: number;
  releasedAt: Date | null;
  createdAt: Date;
  /**
   * Who the number was allocated to within the account: its subaccount, null for the main account
   * (absent from records of an earlier release). A number moved to another of the account's owners
   * since no longer serves the allocation.
   */
  subaccountId?: string | null;
}

/** True while the hold blocks its pair: live, and not past the end of its cool-off. */
export function isBlocking(hold: Hold, now: Date): boolean {
  if (hold.liveMarker !== LIVE) return false;
  return hold.blockedUntil === null || hold.blockedUntil.getTime() > now.getTime();
}

/** A live hold whose cool-off is over: it can be retired, freeing its pair. */
export function isRetirable(hold: Hold, now: Date): boolean {
  return (
    hold.liveMarker === LIVE && hold.blockedUntil !== null && hold.blockedUntil.getTime() <= now.getTime()
  );
}

/** Whether two copies of an allocation record name the same holds, in order (hold ids only grow). */
export function sameHolds(
  a: Pick<AllocationRecord, 'holdIds'>,
  b: Pick<AllocationRecord, 'holdIds'>,
): boolean {
  return a.holdIds.length === b.holdIds.length && a.holdIds.every((id, i) => id === b.holdIds[i]);
}
