import { LIVE, type InsertOutcome, type PinRegistration, type PinRegistryStore } from './pin-registration';

/** The registry's store port in memory, with the same two unique rules. For unit and property tests. */
export class InMemoryPinRegistryStore implements PinRegistryStore {
  readonly rows = new Map<string, PinRegistration>();

  async insert(r: PinRegistration): Promise<InsertOutcome> {
    for (const x of this.rows.values()) {
      if (x.liveMarker !== r.liveMarker) continue;
      if (x.digest === r.digest) return 'digest-taken';
      if (x.virtualNumber === r.virtualNumber && x.pinLength === r.pinLength && x.slot === r.slot)
        return 'slot-taken';
    }
    this.rows.set(r._id, { ...r });
    return 'inserted';
  }

  async liveForSession(sessionId: string) {
    return [...this.rows.values()].filter((r) => r.sessionId === sessionId && r.liveMarker === LIVE);
  }

  async liveForSessions(sessionIds: readonly string[]) {
    const wanted = new Set(sessionIds);
    return [...this.rows.values()].filter((r) => wanted.has(r.sessionId) && r.liveMarker === LIVE);
  }

  async liveByDigest(digest: string) {
    return [...this.rows.values()].find((r) => r.digest === digest && r.liveMarker === LIVE) ?? null;
  }

  async liveSlots(virtualNumber: string, pinLength: number) {
    return [...this.rows.values()]
      .filter((r) => r.virtualNumber === virtualNumber && r.pinLength === pinLength && r.liveMarker === LIVE)
      .map((r) => r.slot);
  }

  async retire(id: string, at: Date) {
    const r = this.rows.get(id);
    if (r && r.liveMarker === LIVE) {
      r.liveMarker = r._id;
      r.retiredAt = at;
    }
  }
}
