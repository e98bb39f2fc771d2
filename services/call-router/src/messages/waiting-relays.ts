/** Messages remembered at most (about 100 bytes each); past it the oldest are forgotten. */
const MAX_KEYS = 100_000;

/**
 * The messages this replica last left stored as waiting in their claims (a plan parked, or a claim
 * given back for a retry), by claim key: a redelivery of one of them, while its provider account is
 * still held back or busy, can be put off again without reading its claim. A message this replica
 * does not know (another replica's, one forgotten past MAX_KEYS, one whose claim it took since)
 * reads its claim as before: whatever an earlier delivery left (a plan to decide, an outcome to
 * announce) is seen. In memory only: a restarted replica reads each claim once.
 */
export class WaitingRelays {
  private readonly keys = new Set<string>();

  /** The message is stored as waiting, its plan made, nothing in flight. */
  note(key: string): void {
    this.keys.delete(key);
    this.keys.add(key);
    if (this.keys.size > MAX_KEYS) this.keys.delete(this.keys.values().next().value as string);
  }

  /** The message's claim is being taken, or it asked for its number read afresh: read it next time. */
  forget(key: string): void {
    this.keys.delete(key);
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }
}
