import { LIVE, sameHolds, type AllocationRecord, type Hold } from './hold';
import type { HoldStore, PairHint } from './hold-store.port';

/**
 * The allocator's store port in memory, with the same unique-pair rule as the real store. Used by
 * the pool simulator (bench:pool) and by unit tests of the allocation logic.
 */
export class InMemoryHoldStore implements HoldStore {
  private readonly holds = new Map<string, Hold>();
  private readonly hints = new Map<string, PairHint>();
  /** The unique index: `${virtualNumber}|${party}|${liveMarker}` → hold id. */
  private readonly unique = new Map<string, string>();
  private readonly allocations = new Map<string, AllocationRecord>();

  async pairHint(virtualNumber: string, party: string) {
    return this.hints.get(`${virtualNumber}|${party}`) ?? null;
  }

  async setPairHint(virtualNumber: string, party: string, hint: PairHint) {
    this.hints.set(`${virtualNumber}|${party}`, { ...hint });
  }

  async clearPairHint(virtualNumber: string, party: string, holdId: string) {
    const key = `${virtualNumber}|${party}`;
    if (this.hints.get(key)?.holdId === holdId) this.hints.delete(key);
  }

  /** A map leaves nothing behind. */
  async removeLeftMarkers(position: number) {
    return { removed: 0, next: position, atEnd: true };
  }

  async insertHold(hold: Hold) {
    const key = uniqueKey(hold);
    if (this.unique.has(key) || this.holds.has(hold._id)) return false;
    this.unique.set(key, hold._id);
    this.holds.set(hold._id, { ...hold });
    return true;
  }

  async deleteHold(accountId: string, holdId: string) {
    const h = this.holds.get(holdId);
    if (!h || h.accountId !== accountId) return;
    this.unique.delete(uniqueKey(h));
    this.holds.delete(holdId);
  }

  async findLiveHold(virtualNumber: string, party: string) {
    const id = this.unique.get(`${virtualNumber}|${party}|${LIVE}`);
    const h = id ? this.holds.get(id) : undefined;
    return h ? { ...h } : null;
  }

  async releaseHold(accountId: string, holdId: string, cooloffSeconds: number, releasedAt: Date) {
    const h = this.holds.get(holdId);
    if (!h || h.accountId !== accountId || h.releasedAt) return;
    h.releasedAt = releasedAt;
    h.blockedUntil = new Date(releasedAt.getTime() + cooloffSeconds * 1000);
    if (cooloffSeconds === 0) this.retire(h, releasedAt);
  }

  async retireHold(holdId: string, at: Date) {
    const h = this.holds.get(holdId);
    if (h && h.liveMarker === LIVE) this.retire(h, at);
  }

  async liveHoldsOf(accountId: string, allocationId: string) {
    return [...this.holds.values()]
      .filter((h) => h.accountId === accountId && h.allocationId === allocationId && h.liveMarker === LIVE)
      .map((h) => ({ ...h }));
  }

  knownAllocation(accountId: string, allocationId: string) {
    return this.allocation(accountId, allocationId);
  }

  async allocation(accountId: string, allocationId: string) {
    const r = this.allocations.get(allocationId);
    return r && r.accountId === accountId ? { ...r, holdIds: [...r.holdIds], parties: [...r.parties] } : null;
  }

  async insertAllocation(record: AllocationRecord) {
    if (this.allocations.has(record._id)) return false;
    this.allocations.set(record._id, { ...record });
    return true;
  }

  async releaseAllocation(record: AllocationRecord, at: Date) {
    this.save({ ...record, parties: [], releasedAt: at });
  }

  async addPartyToAllocation(read: AllocationRecord, holdId: string, party: string) {
    const there = this.allocations.get(read._id);
    if (!there || there.releasedAt || !sameHolds(there, read)) return false;
    return this.save({ ...read, holdIds: [...read.holdIds, holdId], parties: [...read.parties, party] });
  }

  private save(record: AllocationRecord): boolean {
    if (this.allocations.get(record._id)?.accountId !== record.accountId) return false;
    this.allocations.set(record._id, { ...record });
    return true;
  }

  /** The reaper's job, done here by the simulator: retire every hold whose cool-off has ended. */
  retireDue(now: Date): void {
    for (const h of this.holds.values()) {
      if (h.liveMarker === LIVE && h.blockedUntil && h.blockedUntil <= now) this.retire(h, now);
    }
  }

  /** Retired holds are dropped at once here (the real store purges them later). */
  private retire(h: Hold, at: Date) {
    this.unique.delete(uniqueKey(h));
    h.liveMarker = h._id;
    h.retiredAt = at;
    this.holds.delete(h._id);
    const key = `${h.virtualNumber}|${h.party}`;
    if (this.hints.get(key)?.holdId === h._id) this.hints.delete(key);
  }

  /** Live holds, for tests and the simulator. */
  liveHolds(now: Date): Hold[] {
    return [...this.holds.values()].filter(
      (h) => h.liveMarker === LIVE && (h.blockedUntil === null || h.blockedUntil > now),
    );
  }
}

function uniqueKey(h: Pick<Hold, 'virtualNumber' | 'party' | 'liveMarker'>) {
  return `${h.virtualNumber}|${h.party}|${h.liveMarker}`;
}
