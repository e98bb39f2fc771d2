import { Injectable } from '@nestjs/common';
import type { RoutingSession } from '@maskline/contracts';

/**
 * This replica's in-memory view of live sessions, by virtual number: fed by session events and a
 * snapshot at start (RoutingIndexFeeder). A miss falls back to the store (SessionFinder).
 */
@Injectable()
export class RoutingIndex {
  private readonly byNumber = new Map<string, Map<string, RoutingSession>>();
  private readonly numberOf = new Map<string, string>();
  /** expiresAt as epoch ms, parsed once per upsert rather than on every call. */
  private readonly expiresAt = new Map<string, number>();
  /** modifiedAt as epoch ms: a view older than the one held is a late event, not news. */
  private readonly modifiedAt = new Map<string, number>();
  /** Sessions heard to have ended, most recent last: an ended session never comes back. */
  private readonly ended = new Set<string>();
  ready = false;
  /** How many ended sessions are remembered (about a day of ends at one per second). */
  maxEndedRemembered = 100_000;

  upsert(session: RoutingSession): void {
    const modified = session.modifiedAt ? Date.parse(session.modifiedAt) : 0;
    if ((this.modifiedAt.get(session.sessionId) ?? -1) > modified) return;
    this.remove(session.sessionId);
    if (session.status !== 'active' || this.ended.has(session.sessionId)) return;
    const onNumber = this.byNumber.get(session.virtualNumber) ?? new Map<string, RoutingSession>();
    onNumber.set(session.sessionId, session);
    this.byNumber.set(session.virtualNumber, onNumber);
    this.numberOf.set(session.sessionId, session.virtualNumber);
    this.expiresAt.set(session.sessionId, Date.parse(session.expiresAt));
    this.modifiedAt.set(session.sessionId, modified);
  }

  /** The session ended (expired or deleted): out of the index, and no later view brings it back. */
  end(sessionId: string): void {
    this.remove(sessionId);
    this.ended.add(sessionId);
    if (this.ended.size > this.maxEndedRemembered) {
      this.ended.delete(this.ended.values().next().value as string);
    }
  }

  remove(sessionId: string): void {
    const number = this.numberOf.get(sessionId);
    if (!number) return;
    this.byNumber.get(number)?.delete(sessionId);
    if (this.byNumber.get(number)?.size === 0) this.byNumber.delete(number);
    this.numberOf.delete(sessionId);
    this.expiresAt.delete(sessionId);
    this.modifiedAt.delete(sessionId);
  }

  /** Live sessions on the number, as far as this replica knows (expired ones are skipped). */
  on(virtualNumber: string, now = Date.now()): RoutingSession[] {
    return [...(this.byNumber.get(virtualNumber)?.values() ?? [])].filter(
      (s) => (this.expiresAt.get(s.sessionId) ?? 0) > now,
    );
  }

  get(sessionId: string): RoutingSession | undefined {
    const number = this.numberOf.get(sessionId);
    return number ? this.byNumber.get(number)?.get(sessionId) : undefined;
  }

  /** Makes the index hold exactly these live sessions on the number (a fresh read from the store). */
  replaceNumber(virtualNumber: string, sessions: RoutingSession[]): void {
    for (const id of [...(this.byNumber.get(virtualNumber)?.keys() ?? [])]) this.remove(id);
    for (const s of sessions) this.upsert(s);
  }

  /** Drops every session the predicate rejects (after a reload: those the store no longer has). */
  retainOnly(keep: (sessionId: string) => boolean): void {
    for (const id of [...this.numberOf.keys()]) if (!keep(id)) this.remove(id);
  }

  get size(): number {
    return this.numberOf.size;
  }
}
