import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  ReleaseAllocation,
  ReleaseSessionPins,
  SessionExpired,
  type SessionEndReason,
} from '@maskline/contracts';
import { EventPublisher, RpcClient } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { WRITE_CALL } from '../config/write-call';
import { routingView } from '../sessions/routing-view';
import { hasNumber } from '../sessions/session-announcer';
import { SessionRepository, endsUnfinished } from '../sessions/session.repository';
import { LiveSessionQuota } from '../sessions/live-session-quota';
import type { SessionDocument } from '../sessions/session.schema';
import { ExpiryClaims } from './expiry-claims';

/** Why a session ended (`SessionExpired`'s reason). */
export type ExpiryReason = SessionEndReason;

/** What came of asking for a session to be ended. */
export type ExpiryAttempt =
  /** It has ended: by this call, or before it. */
  | { kind: 'ended' }
  /** Another replica is ending it now: look again after `untilMs` (epoch ms), should it still be live. */
  | { kind: 'busy'; untilMs: number }
  /** Not due yet (its expiry moved since it was timed): at this time, then. */
  | { kind: 'later'; expiresAt: Date };

/**
 * Ends a session exactly once, whichever replica gets there: the one holding the session's claim
 * (`ExpiryClaims`, in NATS KV) does it; a claim left unfinished (a crash) is taken over after
 * EXPIRY_CLAIM_STALE_MS (at most half the events' duplicate window). Every step is idempotent, and
 * the SessionTimeout event carries a message id, so a takeover within that window never announces
 * twice.
 */
@Injectable()
export class SessionExpirer {
  private readonly expired;

  constructor(
    private readonly sessions: SessionRepository,
    private readonly rpc: RpcClient,
    private readonly events: EventPublisher,
    private readonly claims: ExpiryClaims,
    private readonly quota: LiveSessionQuota,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.expired = metrics.counter('maskline_sessions_expired_total', 'Sessions ended', ['reason']);
  }

  /**
   * Ends the session if it is still live and due (or whatever its stored expiry, with `now`). The
   * claim is taken before the store is read, so a replica that lost the race costs the store
   * nothing; the session is read after it, so what is ended (its number, its PINs) is what is
   * stored, not what a caller read before.
   */
  async expireIfDue(
    sessionId: string,
    options: { now?: boolean; reason?: ExpiryReason } = {},
  ): Promise<ExpiryAttempt> {
    const claim = await this.claims.claim(sessionId);
    if (claim.kind !== 'claimed') return claim;
    let session: SessionDocument | null;
    try {
      session = await this.sessions.getLiveSystemWide(sessionId);
    } catch (err) {
      this.claims.drop(sessionId);
      throw err;
    }
    // Gone (moved to the history), or a tombstone.
    if (!session || (session.status !== 'active' && !endsUnfinished(session))) {
      await this.claims.finish(sessionId);
      return { kind: 'ended' };
    }
    // Marked ended by an expiry that stopped before it announced and moved it: finished here, for
    // the reason the mark recorded.
    if (session.status !== 'active') {
      const marked = session;
      return this.endClaimed(marked, async () => {
        await this.release(marked);
        await this.finish(marked, marked.endReason ?? options.reason ?? 'timeout', 'as found');
      });
    }
    const reason = options.reason ?? session.endReason ?? 'timeout';
    if (session.expiresAt.getTime() > Date.now() && !options.now) {
      await this.claims.release(sessionId, claim);
      return { kind: 'later', expiresAt: session.expiresAt };
    }
    // Its owner's request, when one brought its expiry forward and another replica ends it.
    return this.endClaimed(session, () => this.end(session, reason));
  }

  private async endClaimed(session: SessionDocument, ending: () => Promise<void>): Promise<ExpiryAttempt> {
    try {
      await ending();
    } catch (err) {
      // The claim stays: other replicas wait it out, this one may retry at once.
      this.claims.drop(session._id);
      throw err;
    }
    // Ended: marking the claim done only spares the others a read of the store, which finds it ended.
    await this.claims.finish(session._id).catch((err: unknown) => {
      this.logger.warn(
        { err, sessionId: session._id },
        'expiry claim not marked done; the store says it ended',
      );
    });
    return { kind: 'ended' };
  }

  /**
   * Marked ended, then its number and PINs back (what it held at the mark): from the mark on,
   * updates fail, and a retry after a failure finds it marked and finishes it (`as found`). Released
   * first, a mark that then failed left a live session on a released number, whose expiry an
   * interaction or an update could still move later (its retry then ended nothing), while the pair
   * was free for another session.
   */
  private async end(session: SessionDocument, reason: ExpiryReason): Promise<void> {
    // The copy stored at the mark: an update may have landed since the session was read.
    const marked = await this.sessions.markEndedSystemWide(session._id, new Date(), reason);
    // Gone from `sessions` already: another expiry (one this replica's claim outlived) moved it.
    if (!marked) return;
    await this.release(marked);
    await this.finish(marked, reason, 'as ended');
  }

  /** The session's number and PINs back (both idempotent: a second release changes nothing). */
  private async release(session: SessionDocument): Promise<void> {
    const scope = { accountId: session.accountId };
    // A Proxy session closed before its first participant holds no number.
    if (session.allocationId) {
      await this.rpc.request(ReleaseAllocation, { scope, allocationId: session.allocationId }, WRITE_CALL);
    }
    if (session.settings.isPinAuthenticationRequired) {
      await this.rpc.request(ReleaseSessionPins, { scope, sessionId: session._id }, WRITE_CALL);
    }
  }

  /**
   * A session marked ended is announced, then moved to the history. Announced first: if the move
   * fails, the session is still in `sessions`, marked, so the expiry sweep finds it and this is
   * retried, the announcement repeated under the same message id (dropped by the stream within its
   * 10-minute duplicate window; past it, announced twice); the other way round a failed announcement
   * was lost, and the routers kept routing a session ended early.
   */
  private async finish(
    marked: SessionDocument,
    reason: ExpiryReason,
    how: 'as ended' | 'as found',
  ): Promise<void> {
    // A session with no number was never announced, and no router knows it. A failed creation's
    // end is announced all the same (a router may have read it from the store), marked so that its
    // owner, answered with an error, hears no SessionTimeout for an id it never had.
    if (hasNumber(marked)) {
      await this.events.publish(
        SessionExpired,
        {
          accountId: marked.accountId,
          subaccountId: marked.subaccountId,
          sessionId: marked._id,
          virtualNumber: marked.virtualNumber,
          firstParty: marked.firstParty,
          secondParty: marked.secondParty,
          reason,
          at: (marked.expiredAt ?? new Date()).toISOString(),
          routing: routingView(marked),
          ...(marked.failedCreation ? { failedCreation: true as const } : {}),
        },
        { msgId: `session-expired:${marked._id}` },
      );
    }
    await this.sessions.moveMarkedSystemWide(marked, how);
    // No longer one of its account's live sessions (a failed creation's, stored, was counted too).
    await this.quota.giveBack(marked, 'session ended');
    this.expired.inc({ reason });
    this.logger.info({ sessionId: marked._id, reason }, 'session expired');
  }
}
