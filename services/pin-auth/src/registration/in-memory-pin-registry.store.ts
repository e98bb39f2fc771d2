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

  private live(accountId: string): PinRegistration[] {
    return [...this.rows.values()].filter((r) => r.accountId === accountId && r.liveMarker === LIVE);
  }

  async liveForSession(accountId: string, sessionId: string) {
    return this.live(accountId).filter((r) => r.sessionId === sessionId);
  }

  async liveForSessions(accountId: string, sessionIds: readonly string[]) {
    const wanted = new Set(sessionIds);
    return this.live(accountId).filter((r) => wanted.has(r.sessionId));
  }

  async liveByDigest(accountId: string, digest: string) {
    return this.live(accountId).find((r) => r.digest === digest) ?? null;
  }

  async liveSlotsOnNumber(virtualNumber: string, pinLength: number) {
    return [...this.rows.values()]
      .filter((r) => r.liveMarker === LIVE && r.virtualNumber === virtualNumber && r.pinLength === pinLength)
      .map((r) => r.slot);
  }

  /** What this store finds is its record. */
  async recorded(_registrations: readonly PinRegistration[]): Promise<boolean> {
    return true;
  }

  /** As the store does: a retired registration is deleted. */
  async retire(accountId: string, registration: Pick<PinRegistration, '_id'>, _at: Date) {
    const r = this.rows.get(registration._id);
    if (r && r.accountId === accountId) this.rows.delete(r._id);
  }
}
