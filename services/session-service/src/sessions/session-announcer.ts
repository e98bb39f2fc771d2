import { Injectable } from '@nestjs/common';
import { SessionCreated, SessionUpdated } from '@maskline/contracts';
import { EventPublisher } from '@maskline/messaging';
import { routingView } from './routing-view';
import type { SessionDocument } from './session.schema';

/** A session that has its number (and the allocation that holds it), as the routers need it announced. */
export type NumberedSession = SessionDocument & { virtualNumber: string; allocationId: string };

/**
 * How long the announcement of a session write (a creation, an update) may wait for the stream,
 * with `leftMs` of the request's time left for it: up to 5 s (the store write is made by then; a
 * stream leader elected after a NATS node was lost is usually back within it, where the
 * publisher's default failed the request: CI at 9a22dc7 and f559132, "event stream is not
 * available" for 6 of 7 creates lost to the node), never less than that default (`defaultMs`).
 */
export function announceWithinMs(leftMs: number, defaultMs: number): number {
  return Math.max(defaultMs, Math.min(ANNOUNCE_MAX_MS, leftMs));
}
const ANNOUNCE_MAX_MS = 5000;

/**
 * Announces a session's start and its changes to the routers and the callback dispatcher, each
 * under a message id that makes a repeat of the same announcement a no-op.
 */
@Injectable()
export class SessionAnnouncer {
  constructor(private readonly events: EventPublisher) {}

  /**
   * The session exists, with its number (a Proxy session: from its first participant on).
   * `timeoutMs`: how long to wait for the stream (the publisher's default when unset). Asked again
   * under its message id, the stream stores it once (its duplicate window), so waiting longer is safe.
   */
  async created(doc: NumberedSession, at: Date, timeoutMs?: number): Promise<void> {
    await this.events.publish(
      SessionCreated,
      { ...sessionTail(doc, at), expiresAt: doc.expiresAt.toISOString() },
      { msgId: `session-created:${doc._id}`, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
    );
  }

  /**
   * The session as stored after a change (with its time, so that a router that hears two updates
   * out of order keeps the later one). `timeoutMs` as for `created`: asked again, the stream stores
   * it once (the change's time is in its message id).
   */
  async updated(doc: NumberedSession, at: Date, timeoutMs?: number): Promise<void> {
    await this.events.publish(SessionUpdated, sessionTail(doc, at), {
      msgId: `session-updated:${doc._id}:${at.getTime()}`,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  }
}

/** What every session announcement says: whose, which, its number and parties, when, and its routing view. */
function sessionTail(doc: NumberedSession, at: Date) {
  return {
    accountId: doc.accountId,
    subaccountId: doc.subaccountId,
    sessionId: doc._id,
    virtualNumber: doc.virtualNumber,
    firstParty: doc.firstParty,
    secondParty: doc.secondParty,
    at: at.toISOString(),
    routing: routingView(doc),
  };
}

/** Whether the session has its number yet (a Proxy session before its first participant has not). */
export function hasNumber(doc: SessionDocument): doc is NumberedSession {
  return doc.virtualNumber !== null && doc.allocationId !== null;
}
