import { Inject, Injectable } from '@nestjs/common';
import {
  PinAuthenticationStatus,
  type RpcParsedRequestOf,
  type RpcReplyInputOf,
  type VerifyPin,
} from '@maskline/contracts';
import { constantTimeEqual } from '@maskline/crypto';
import { EventPublisher } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { CLOCK, type Clock } from '@maskline/service-kit';
import type { Logger } from 'pino';
import { PinRegistry } from '../registration/pin-registry';
import { PinThrottle } from '../throttling/pin-throttle';

type Request = RpcParsedRequestOf<typeof VerifyPin>;
type Reply = RpcReplyInputOf<typeof VerifyPin>;

/**
 * Checks typed digits: throttles first (per call, per caller, per number), then looks the PIN up
 * by its keyed digest and compares digests in constant time. Announces every outcome as Plivo's
 * SessionPinAuthenticationStatus. Never logs digits.
 */
@Injectable()
export class PinVerifier {
  private readonly outcomes;

  constructor(
    private readonly registry: PinRegistry,
    private readonly throttle: PinThrottle,
    private readonly events: EventPublisher,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.outcomes = metrics.counter('maskline_pin_verifications_total', 'PIN verifications by outcome', [
      'outcome',
    ]);
  }

  async verify(request: Request): Promise<Reply> {
    const now = new Date(this.clock());
    const reply = await this.decide(request, now);
    this.outcomes.inc({ outcome: reply.outcome === 'locked' ? `locked-${reply.reason}` : reply.outcome });
    this.logger.info(
      {
        virtualNumber: request.virtualNumber,
        callId: request.callId,
        attempt: request.attempt,
        outcome: reply.outcome,
      },
      'PIN verification',
    );
    return reply;
  }

  private async decide(request: Request, now: Date): Promise<Reply> {
    if (request.attempt > request.maxAttempts)
      return { outcome: 'locked', reason: 'call', retryAfterSeconds: 0 };
    // The lock check and the lookup are independent reads: run them together, decide in order.
    const [lock, found] = await Promise.all([
      this.throttle.activeLock(request.virtualNumber, request.callerNumber, request.callerRegistered, now),
      this.registry.find(request.accountId, request.virtualNumber, request.digits),
    ]);
    if (lock) return { outcome: 'locked', reason: lock.reason, retryAfterSeconds: lock.retryAfterSeconds };

    const expected = this.registry.digest(request.virtualNumber, request.digits);
    if (found && found.accountId === request.accountId && constantTimeEqual(found.digest, expected)) {
      await this.announce(request, 'success', found.sessionId, request.attempt - 1, now);
      return { outcome: 'match', accountId: found.accountId, sessionId: found.sessionId, party: found.party };
    }

    await this.throttle.recordFailure(request, now);
    await this.announce(request, 'failed', null, request.attempt, now);
    return { outcome: 'mismatch', remainingAttempts: Math.max(0, request.maxAttempts - request.attempt) };
  }

  async announce(
    request: Pick<Request, 'accountId' | 'virtualNumber' | 'callerNumber' | 'callId'>,
    status: 'success' | 'failed' | 'AuthorizedCaller',
    sessionId: string | null,
    retryCounter: number,
    now: Date,
  ): Promise<void> {
    await this.events.publish(
      PinAuthenticationStatus,
      {
        accountId: request.accountId,
        sessionId,
        virtualNumber: request.virtualNumber,
        callerNumber: request.callerNumber,
        callId: request.callId,
        status,
        retryCounter,
        at: now.toISOString(),
      },
      { msgId: `pin-status:${request.callId}:${status}:${retryCounter}` },
    );
  }
}
