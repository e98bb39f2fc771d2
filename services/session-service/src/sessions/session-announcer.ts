import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, STREAMS, SessionCreated, SessionUpdated } from '@maskline/contracts';
import { EventPublisher } from '@maskline/messaging';
import { LOGGER, msLeftOfRequest } from '@maskline/observability';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { WRITE_REQUEST_BUDGET_MS } from '../config/write-call';
import { routingView } from './routing-view';
import { SessionRepository } from './session.repository';
import { UnannouncedUpdates } from './unannounced-updates.repository';
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
/** Of an update's time, what rendering its answer (a PIN lookup, a read of its calls) may need after the announcement. */
const ANSWER_RESERVE_MS = 3000;
/** An update's announcement that failed in its request is tried again after 1 s, doubling to this. */
const AGAIN_MAX_MS = 60_000;
/**
 * What is left of the stream's duplicate window for a repeat to be dropped by it for sure: the time
 * a look and the publish after it may take, and clocks a little apart.
 */
const WINDOW_MARGIN_MS = 60_000;
/** Updates waiting to be announced again, at most, per replica (a long outage's backlog is bounded). */
const AGAIN_MAX_PENDING = 10_000;

/**
 * Whether a repeat at `at` of a session announcement first made after `since` (a creation's
 * Idempotency-Key claim, an update's time) is still dropped by the stream for sure: within its
 * duplicate window, less a margin. Past it, a repeat would be a second announcement.
 */
export function withinDuplicateWindow(since: Date, at = Date.now()): boolean {
  return at - since.getTime() < STREAMS[SessionCreated.stream].duplicateWindowMs - WINDOW_MARGIN_MS;
}

/**
 * Announces a session's start and its changes to the routers and the callback dispatcher, each
 * under a message id that makes a repeat of the same announcement a no-op.
 */
@Injectable()
export class SessionAnnouncer {
  /** Updates waiting to be announced again (`updatedLater`). */
  private pendingLater = 0;

  constructor(
    private readonly events: EventPublisher,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
    private readonly sessions: SessionRepository,
    @Optional() @Inject(LOGGER) private readonly logger?: Logger,
    @Optional() private readonly unannounced?: UnannouncedUpdates,
  ) {}

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

  /**
   * `updated`, for a change an API request made and is still to answer: waits for the stream in what
   * the request has left, less what its answer needs. Stored by then, the change would otherwise
   * stay unknown to the routers when the stream was away for a moment and the caller, answered 503,
   * never asked again.
   */
  async updatedInRequest(doc: NumberedSession, at: Date): Promise<void> {
    const leftMs = (msLeftOfRequest() ?? WRITE_REQUEST_BUDGET_MS) - ANSWER_RESERVE_MS;
    try {
      await this.updated(doc, at, announceWithinMs(leftMs, this.config.RPC_TIMEOUT_MS));
    } catch (err) {
      // The change is stored and the caller hears 503, and may never ask again: the routers would
      // route by the session as it was (its old expiry, parties, settings) until its next change.
      // Tried again here soon, and noted for the sweep (`UnannouncedUpdateSweeper`), which announces it
      // should this replica stop first.
      this.updatedLater(doc, at, 1000);
      await this.noteForSweep(doc.accountId, doc._id);
      throw err;
    }
  }

  /**
   * A change of the session the sweep is to announce (`UnannouncedUpdateSweeper`), as the store then
   * holds it: one whose announcement failed, or whose write failed without saying whether it landed
   * (so that one that landed is not left unannounced when its owner does not ask again). Best effort
   * (the store that failed the write or its announcement may not take the note either): logged,
   * never thrown.
   */
  async noteForSweep(accountId: string, sessionId: string): Promise<void> {
    await this.unannounced
      ?.note(accountId, sessionId)
      .catch((err: unknown) =>
        this.logger?.error(
          { err, sessionId },
          'a session change not noted for the sweep: only this replica announces it, or its next change',
        ),
      );
  }

  /**
   * `updated` tried again in the background, backing off (each wait cut at random, so that what
   * failed together does not come back together), while its tries stay one announcement.
   */
  private updatedLater(doc: NumberedSession, at: Date, afterMs: number): void {
    if (!withinDuplicateWindow(at, Date.now() + afterMs) || this.pendingLater >= AGAIN_MAX_PENDING) {
      this.logger?.error(
        { sessionId: doc._id },
        'a session update is no longer tried here: the unannounced-update sweep announces it, if it was noted',
      );
      return;
    }
    this.pendingLater++;
    setTimeout(
      () => {
        void this.triedAgain(doc, at).then(
          () => void this.pendingLater--,
          (err: unknown) => {
            this.pendingLater--;
            // A stream away: later. Anything else (the announcement itself refused) will not pass.
            if (!(err instanceof CodedError) || err.retryable)
              this.updatedLater(doc, at, Math.min(AGAIN_MAX_MS, afterMs * 2));
            else this.logger?.error({ err, sessionId: doc._id }, 'a session update could not be announced');
          },
        );
      },
      afterMs * (0.5 + Math.random() / 2),
    ).unref();
  }

  /**
   * The change announced, if it is still the session's last and the session lives: one ended or
   * changed since was announced by that (or will be), and a late try would give a router that never
   * heard of the end (one started since) the session back, live.
   */
  private async triedAgain(doc: NumberedSession, at: Date): Promise<void> {
    const stored = await this.sessions.getLiveSystemWide(doc._id);
    if (!stored || stored.status !== 'active' || stored.modifiedAt.getTime() !== at.getTime()) return;
    if (hasNumber(stored)) await this.updated(stored, at);
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
