import { Inject, Injectable } from '@nestjs/common';
import type { RpcParsedRequestOf, RpcReplyInputOf, VerifyPin } from '@maskline/contracts';
import { constantTimeEqual } from '@maskline/crypto';
import { LOGGER, MetricsService } from '@maskline/observability';
import { CLOCK, type Clock } from '@maskline/service-kit';
import type { Logger } from 'pino';
import { PinAttemptLog } from '../attempts/pin-attempt-log';
import { PinRegistry } from '../registration/pin-registry';
import { PinThrottle } from '../throttling/pin-throttle';
import { OutcomeAnnouncer } from './outcome-announcer';

type Request = RpcParsedRequestOf<typeof VerifyPin>;
type Reply = RpcReplyInputOf<typeof VerifyPin>;

/** How long a mismatch's reply waits for its failure to reach the shared count (it stays counted here). */
const SHARE_WAIT_MS = 1000;

/**
 * Checks typed digits: throttles first (per call, per caller, per number), then looks the PIN up
 * by its keyed digest and compares digests in constant time. Announces every outcome as Plivo's
 * SessionPinAuthenticationStatus. Never logs digits.
 *
 * Reads no store collection: live PINs and throttle state come from this replica's copies of their
 * KV buckets (map lookups). A match is answered from them alone; a mismatch once its failure is
 * in the shared count (see PinThrottle for why that holds across replicas).
 */
@Injectable()
export class PinVerifier {
  private readonly outcomes;

  constructor(
    private readonly registry: PinRegistry,
    private readonly throttle: PinThrottle,
    private readonly announcer: OutcomeAnnouncer,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly attempts: PinAttemptLog,
  ) {
    this.outcomes = metrics.counter('maskline_pin_verifications_total', 'PIN verifications by outcome', [
      'outcome',
    ]);
  }

  async verify(request: Request): Promise<Reply> {
    const reply = await this.decide(request);
    this.attempts.recordSoon({
      accountId: request.accountId,
      virtualNumber: request.virtualNumber,
      callerNumber: request.callerNumber,
      callId: request.callId,
      attempt: request.attempt,
      outcome: reply.outcome === 'match' ? 'success' : reply.outcome === 'mismatch' ? 'failed' : 'locked',
      lockReason: reply.outcome === 'locked' ? reply.reason : undefined,
      sessionId: reply.outcome === 'match' ? reply.sessionId : null,
      at: new Date(this.clock()),
    });
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

  private async decide(request: Request): Promise<Reply> {
    if (request.attempt > request.maxAttempts)
      return { outcome: 'locked', reason: 'call', retryAfterSeconds: 0 };
    // Map lookups while the copies are current; reads of KV itself while one is being repaired.
    const [found] = await Promise.all([
      this.registry.find(request.accountId, request.virtualNumber, request.digits),
      this.throttle.refresh(request),
    ]);

    // From the lock check to counting a failure nothing is awaited: guesses arriving together at
    // this replica are judged one after another, each seeing the failures judged before it.
    const now = new Date(this.clock());
    const lock = this.throttle.activeLock(request, now);
    if (lock) return { outcome: 'locked', reason: lock.reason, retryAfterSeconds: lock.retryAfterSeconds };

    const expected = this.registry.digest(request.virtualNumber, request.digits);
    // A registered caller's digits match its own sessions' PINs alone (another's is a wrong PIN).
    const open = (sessionId: string) => !request.onlySessions || request.onlySessions.includes(sessionId);
    if (
      found &&
      found.accountId === request.accountId &&
      open(found.sessionId) &&
      constantTimeEqual(found.digest, expected)
    ) {
      this.announcer.announceSoon({
        ...announced(request, now),
        status: 'success',
        sessionId: found.sessionId,
        retryCounter: request.attempt - 1,
      });
      return { outcome: 'match', accountId: found.accountId, sessionId: found.sessionId, party: found.party };
    }

    await withinMs(this.throttle.recordFailure(request, now), SHARE_WAIT_MS);
    this.announcer.announceSoon({
      ...announced(request, now),
      status: 'failed',
      sessionId: null,
      retryCounter: request.attempt,
    });
    return { outcome: 'mismatch', remainingAttempts: Math.max(0, request.maxAttempts - request.attempt) };
  }
}

function announced(request: Request, at: Date) {
  return {
    accountId: request.accountId,
    virtualNumber: request.virtualNumber,
    callerNumber: request.callerNumber,
    callId: request.callId,
    at,
  };
}

/** Waits for `work`, or `ms` at most (the work goes on). */
async function withinMs(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
