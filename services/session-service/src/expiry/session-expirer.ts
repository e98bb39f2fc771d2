import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { Logger } from 'pino';
import { ReleaseAllocation, ReleaseSessionPins, SessionExpired } from '@maskline/contracts';
import { EventPublisher, RpcClient } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { historySweepQueries, isDuplicateKeyError } from '@maskline/persistence';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { WRITE_CALL } from '../config/write-call';
import { routingView } from '../sessions/routing-view';
import { hasNumber } from '../sessions/session-announcer';
import { SessionRepository } from '../sessions/session.repository';
import type { SessionDocument } from '../sessions/session.schema';
import { ExpiryClaimDocument } from './expiry-claim.schema';

/**
 * Ends a session exactly once, whichever replica gets there: the first to insert the session's
 * expiry claim does it; a claim left unfinished (a crash) is taken over after
 * EXPIRY_CLAIM_STALE_MS. Every step is idempotent, and the SessionTimeout event carries a
 * message id, so a takeover never announces twice.
 */
@Injectable()
export class SessionExpirer {
  private readonly expired;
  private readonly claimSweeps;

  constructor(
    private readonly sessions: SessionRepository,
    private readonly rpc: RpcClient,
    private readonly events: EventPublisher,
    @InjectModel(ExpiryClaimDocument.name) private readonly claims: Model<ExpiryClaimDocument>,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.expired = metrics.counter('maskline_sessions_expired_total', 'Sessions ended', ['reason']);
    this.claimSweeps = historySweepQueries(claims);
  }

  /** Returns false when another replica holds a fresh claim (it is being done). */
  async expire(session: SessionDocument, reason: 'timeout' | 'api'): Promise<boolean> {
    if (!(await this.claim(session._id))) return false;
    const scope = { accountId: session.accountId };
    // A Proxy session closed before its first participant holds no number.
    if (session.allocationId) {
      await this.rpc.request(ReleaseAllocation, { scope, allocationId: session.allocationId }, WRITE_CALL);
    }
    if (session.settings.isPinAuthenticationRequired) {
      await this.rpc.request(ReleaseSessionPins, { scope, sessionId: session._id }, WRITE_CALL);
    }
    const now = new Date();
    const end = { status: 'expired' as const, expiredAt: now, modifiedAt: now };
    // Announced as stored now: an update may have landed since the session was read.
    const ended: SessionDocument = {
      ...((await this.sessions.getLiveSystemWide(session._id)) ?? session),
      ...end,
    };
    // A session with no number was never announced, and no router knows it.
    if (hasNumber(ended)) {
      await this.events.publish(
        SessionExpired,
        {
          accountId: ended.accountId,
          subaccountId: ended.subaccountId,
          sessionId: ended._id,
          virtualNumber: ended.virtualNumber,
          firstParty: ended.firstParty,
          secondParty: ended.secondParty,
          reason,
          at: now.toISOString(),
          routing: routingView(ended),
        },
        { msgId: `session-expired:${session._id}` },
      );
    }
    // Announced first, then moved to the history: if the move fails, the session is still live and
    // due, so the expiry is retried and the announcement repeated under the same message id
    // (deduplicated by the stream for 10 min); the other way round a failed announcement was lost.
    await this.sessions.moveToEndedSystemWide(session._id, now);
    this.expired.inc({ reason });
    this.logger.info({ sessionId: session._id, reason }, 'session expired');
    return true;
  }

  private async claim(sessionId: string): Promise<boolean> {
    for (let attempt = 1; attempt <= 20; attempt++) {
      try {
        await this.claims.create({ _id: `${sessionId}:${attempt}`, sessionId, claimedAt: new Date() });
        return true;
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
      const existing = (await this.claims
        .findById(`${sessionId}:${attempt}`)
        .lean()
        .exec()) as ExpiryClaimDocument | null;
      if (existing && Date.now() - existing.claimedAt.getTime() < this.config.EXPIRY_CLAIM_STALE_MS)
        return false;
    }
    return false;
  }

  /** The retention sweep: claims of expiries long finished, as one range (slices of it when the store refuses one that large). Served by `{ claimedAt }`. */
  purgeClaimsSystemWide(olderThan: Date): Promise<number> {
    return this.claimSweeps.deleteDue({}, 'claimedAt', olderThan);
  }
}
