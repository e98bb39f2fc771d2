import { LIVE, type AllocationRecord, type Hold } from './hold';
import type { HoldStore } from './hold-store.port';

/**
 * The allocator's store port in memory, with the same unique-pair rule as the real store. Used by
 * the pool simulator (bench:pool) and by unit tests of the allocation logic.
 */
export class InMemoryHoldStore implements HoldStore {
  private readonly holds = new Map<string, Hold>();
  private readonly pointers = new Map<string, string>();
  /** The unique index: `${virtualNumber}|${party}|${liveMarker}` → hold id. */
  private readonly unique = new Map<string, string>();
  private readonly allocations = new Map<string, AllocationRecord>();

  async pointer(virtualNumber: string, party: string) {
    return this.pointers.get(`${virtualNumber}|${party}`) ?? null;
  }

  async setPointer(virtualNumber: string, party: string, holdId: string) {
    this.pointers.set(`${virtualNumber}|${party}`, holdId);
  }

  async hold(holdId: string) {
    const h = this.holds.get(holdId);
    return h ? { ...h } : null;
  }

  async insertHold(hold: Hold) {
    const key = uniqueKey(hold);
    if (this.unique.has(key) || this.holds.has(hold._id)) return false;
    this.unique.set(key, hold._id);
    this.holds.set(hold._id, { ...hold });
    return true;
  }

  async findLiveHold(virtualNumber: string, party: string) {
    const id = this.unique.get(`${virtualNumber}|${party}|${LIVE}`);
    return id ? this.hold(id) : null;
  }

  async releaseHold(hold: Hold, releasedAt: Date) {
    const h = this.holds.get(hold._id);
    if (!h || h.releasedAt) return;
    h.releasedAt = releasedAt;
    h.blockedUntil = new Date(releasedAt.getTime() + h.cooloffSeconds * 1000);
    if (h.cooloffSeconds === 0) this.retire(h, releasedAt);
  }

  async retireHold(holdId: string, at: Date) {
    const h = this.holds.get(holdId);
    if (h && h.liveMarker === LIVE) this.retire(h, at);
  }

  async deleteHold(holdId: string) {
    const h = this.holds.get(holdId);
    if (!h) return;
    this.unique.delete(uniqueKey(h));
    this.holds.delete(holdId);
  }

  async allocation(sessionId: string) {
    const r = this.allocations.get(sessionId);
    return r ? { ...r, holdIds: [...r.holdIds], parties: [...r.parties] } : null;
  }

  async insertAllocation(record: AllocationRecord) {
    if (this.allocations.has(record._id)) return false;
    this.allocations.set(record._id, { ...record });
    return true;
  }

  async addAllocationHold(sessionId: string, party: string, holdId: string) {
    const r = this.allocations.get(sessionId);
    if (r && !r.holdIds.includes(holdId)) {
      r.holdIds.push(holdId);
      r.parties.push(party);
    }
  }

  async markAllocationReleased(sessionId: string, at: Date) {
    const r = this.allocations.get(sessionId);
    if (r && !r.releasedAt) r.releasedAt = at;
  }

  /** Retired holds are dropped at once here (the real store purges them later). */
  private retire(h: Hold, at: Date) {
    this.unique.delete(uniqueKey(h));
    h.liveMarker = h._id;
    h.retiredAt = at;
    this.holds.delete(h._id);
  }

  /** Live holds, for the simulator's measurements. */
  liveHolds(now: Date): Hold[] {
    return [...this.holds.values()].filter(
      (h) => h.liveMarker === LIVE && (h.blockedUntil === null || h.blockedUntil > now),
    );
  }
}

function uniqueKey(h: Pick<Hold, 'virtualNumber' | 'party' | 'liveMarker'>) {
  return `${h.virtualNumber}|${h.party}|${h.liveMarker}`;
}
