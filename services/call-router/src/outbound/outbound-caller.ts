import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  CallErrorCodes,
  CodedError,
  ErrorCodes,
  GetNumberRouting,
  GetRoutingSession,
  FirstPartyCallFailed,
  SessionCreated,
  followUpUrl,
  type FirstPartyCallFailure,
  type FollowUp,
  type RoutingSession,
} from '@maskline/contracts';
import {
  DurableConsumer,
  EventPublisher,
  RetryLater,
  RpcClient,
  type EventMeta,
  type EventOf,
} from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { providerAccountBreaker, providerApiUrl, providerAuthorization } from '@maskline/net-guard';
import { toPlivoNumber } from '@maskline/plivo-wire';
import { BreakerRegistry } from '@maskline/resilience';
import { CALL_STATE_BUCKET, CallState } from '../calls/call-state';
import { CALL_ROUTER_CONFIG, type CallRouterConfig } from '../config/call-router.config';

const EVENTS = [SessionCreated] as const;
/** Deliveries of a session's creation: a call placed half a minute late is still wanted, later not. */
const OUTBOUND_MAX_DELIVER = 6;
/**
 * How old a SessionCreated may be for the view it carries to be trusted as the session's own:
 * older, the session is read as it is now (it may have ended since).
 */
const LATE_AFTER_MS = 30_000;

/**
 * initiate_call_to_first_party: when such a session is created, Maskline calls the first party
 * through the number's provider (Plivo's Call API or Twilio's Calls API) from the virtual number;
 * when they answer, the provider asks `/voice/<provider>/outbound-answer` and the call is bridged
 * to the second party.
 */
@Injectable()
export class OutboundCaller {
  constructor(
    private readonly rpc: RpcClient,
    private readonly events: EventPublisher,
    private readonly breakers: BreakerRegistry,
    private readonly state: CallState,
    @Inject(CALL_ROUTER_CONFIG) private readonly config: CallRouterConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @DurableConsumer({
    durable: 'call-router-initiate-calls',
    events: EVENTS,
    oncePer: [CALL_STATE_BUCKET],
    maxDeliver: OUTBOUND_MAX_DELIVER,
    retryBaseMs: 1000,
  })
  async onSessionCreated({ payload }: EventOf<typeof EVENTS>, meta: EventMeta): Promise<void> {
    // Read when a try fails: a copy the server sent meanwhile counts (its count is the server's).
    const last = () => meta.deliveryCount >= OUTBOUND_MAX_DELIVER;
    let session: Awaited<ReturnType<OutboundCaller['sessionToCall']>>;
    try {
      session = await this.sessionToCall(payload, meta);
    } catch (err) {
      // Its tries are over and the session cannot be read: what the event said of it decides.
      const said = payload.routing;
      const reason = failureOf(err, last());
      if (reason && said && wantsCall(said)) await this.announceFailure(said, reason, err);
      throw err;
    }
    if (!session) return;
    try {
      await this.callFirstParty(session);
    } catch (err) {
      const reason = failureOf(err, last());
      if (reason) await this.announceFailure(session, reason, err);
      throw err;
    }
  }

  /**
   * The session, if its first party is to be called now. The event carries the session's routing
   * view (one from an older session-service does not: ask). A late one (a backlog after an outage,
   * a retry) may describe a session since ended, and its first party is not to be called for that:
   * the session as it is now is asked for.
   */
  private async sessionToCall(
    payload: EventOf<typeof EVENTS>['payload'],
    meta: EventMeta,
  ): Promise<(RoutingSession & { firstParty: string; secondParty: string }) | undefined> {
    const late = Date.now() - meta.publishedAt.getTime() > LATE_AFTER_MS;
    const session =
      (late ? undefined : payload.routing) ??
      (await this.rpc.request(GetRoutingSession, { sessionId: payload.sessionId })).session;
    if (!session || !wantsCall(session)) return undefined;
    if (session.status !== 'active' || Date.parse(session.expiresAt) <= Date.now()) {
      this.logger.info({ sessionId: session.sessionId }, 'session ended before its first party was called');
      return undefined;
    }
    return session;
  }

  /**
   * The session's owner is told that its first party will not be called (callback
   * SessionFirstPartyCallFailed), once: the announcement's id is the session's, and the call's claim
   * is settled as given up. When the announcement cannot be published the event still ends with
   * `failure` (a retry would find the claim settled and say nothing): said at error, never silent.
   */
  private async announceFailure(
    session: Pick<RoutingSession, 'accountId' | 'sessionId' | 'virtualNumber' | 'firstParty'>,
    reason: FirstPartyCallFailure,
    failure: unknown,
  ): Promise<void> {
    if (!session.firstParty) return;
    this.logger.warn({ sessionId: session.sessionId, reason }, 'the first party will not be called');
    await this.events
      .publish(
        FirstPartyCallFailed,
        {
          accountId: session.accountId,
          sessionId: session.sessionId,
          virtualNumber: session.virtualNumber,
          firstParty: session.firstParty,
          reason,
          at: new Date().toISOString(),
        },
        { msgId: `first-party-call-failed:${session.sessionId}` },
      )
      .catch((err: unknown) =>
        this.logger.error(
          { err, failure, sessionId: session.sessionId, reason },
          'the failed call to the first party could not be announced',
        ),
      );
    await this.settle(session.sessionId, 'given-up');
  }

  /** Records how the call went (the event ends either way; a later copy of it then ends quietly). */
  private async settle(sessionId: string, state: 'placed' | 'given-up'): Promise<void> {
    await this.state
      .settleOutbound(sessionId, state)
      .catch((err: unknown) =>
        this.logger.warn(
          { err, sessionId, state },
          'how the call to the first party went could not be recorded',
        ),
      );
  }

  private async callFirstParty(session: RoutingSession & { firstParty: string }): Promise<void> {
    const number = await this.rpc.request(GetNumberRouting, { number: session.virtualNumber });
    if (!number.credentials) {
      throw new CodedError(
        CallErrorCodes.NO_PROVIDER_CREDENTIALS,
        `number ${session.virtualNumber} has no provider credentials to place calls with`,
      );
    }
    if (number.accountId !== session.accountId) {
      throw new CodedError(
        CallErrorCodes.FORBIDDEN,
        `number ${session.virtualNumber} belongs to another account now`,
      );
    }
    const claim = await this.state.claimOutbound(session.sessionId);
    if (!claim.claimed) {
      if (claim.state !== 'placing') {
        this.logger.info(
          { sessionId: session.sessionId, state: claim.state },
          'first party already called, or given up',
        );
        return;
      }
      // An earlier try claimed it and never said how it went: it may have rung, so not again.
      throw new CodedError(
        CallErrorCodes.OUTCOME_UNKNOWN,
        'an earlier try to call the first party was cut short: the call may have been placed',
      );
    }
    // The call does not exist yet: its URLs are bound to the session, the number and its owner.
    const binding = {
      provider: number.provider,
      virtualNumber: session.virtualNumber,
      accountId: session.accountId,
      direction: 'outbound' as const,
    };
    const options = {
      nowSeconds: Math.floor(Date.now() / 1000),
      ttlSeconds: this.config.CALL_CONTEXT_TTL_SECONDS,
    };
    const url = (followUp: FollowUp) =>
      followUpUrl(this.config.PUBLIC_BASE_URL, followUp, binding, this.config.CALL_CONTEXT_KEYS, options);
    const answerUrl = url({ stage: 'outbound-answer', sessionId: session.sessionId });
    const hangupUrl = url({ stage: 'hangup' });
    const { accountId } = number.credentials;
    const auth = providerAuthorization(number.credentials);
    const request =
      number.provider === 'plivo'
        ? {
            url: providerApiUrl(this.config, 'plivo', accountId, 'call'),
            headers: { authorization: auth, 'content-type': 'application/json' },
            body: JSON.stringify({
              from: toPlivoNumber(session.virtualNumber),
              to: toPlivoNumber(session.firstParty),
              answer_url: answerUrl,
              answer_method: 'POST',
              hangup_url: hangupUrl,
              ring_timeout: session.settings.ringTimeoutSeconds,
              time_limit: session.settings.callTimeLimitSeconds,
            }),
          }
        : {
            url: providerApiUrl(this.config, 'twilio', accountId, 'call'),
            headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              From: session.virtualNumber,
              To: session.firstParty,
              Url: answerUrl,
              Method: 'POST',
              StatusCallback: hangupUrl,
              StatusCallbackEvent: 'completed',
              Timeout: String(session.settings.ringTimeoutSeconds),
              TimeLimit: String(session.settings.callTimeLimitSeconds),
            }).toString(),
          };
    const breaker = providerAccountBreaker({
      accountId: session.accountId,
      provider: number.provider,
      credentials: number.credentials,
    });
    const res = await this.place(session.sessionId, () =>
      this.breakers.fire(
        breaker,
        () =>
          fetch(request.url, {
            method: 'POST',
            headers: request.headers,
            body: request.body,
            redirect: 'error',
            signal: AbortSignal.timeout(this.config.OUTBOUND_TIMEOUT_MS),
          }),
        {},
        { timeoutMs: this.config.OUTBOUND_TIMEOUT_MS + 1000 },
      ),
    );
    // Read only to free the connection: the status says how it went, even if the body is cut short.
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 500 || res.status === 429) {
      await this.state.releaseOutbound(session.sessionId);
      throw new RetryLater(`${number.provider} answered ${res.status}`, 2000);
    }
    if (res.status >= 300) {
      throw new CodedError(
        CallErrorCodes.PROVIDER_REFUSED,
        `${number.provider} refused the call: HTTP ${res.status}`,
      );
    }
    await this.settle(session.sessionId, 'placed');
    this.logger.info({ sessionId: session.sessionId, provider: number.provider }, 'called the first party');
  }

  /**
   * Sends the request. When it never reached the provider (refused connection, open breaker) the
   * claim is released and the event retried; when the answer is lost (timeout) the call may have
   * been placed, so it is not retried: ringing someone twice is worse than not at all.
   */
  private async place(sessionId: string, send: () => Promise<Response>): Promise<Response> {
    try {
      return await send();
    } catch (err) {
      if (isTimeout(err)) {
        throw new CodedError(
          CallErrorCodes.PROVIDER_TIMEOUT,
          'the provider did not answer the call request in time',
        );
      }
      await this.state.releaseOutbound(sessionId);
      throw new RetryLater('the provider could not be reached', 2000);
    }
  }
}

/** Whether the session is one whose first party Maskline calls, with both parties known. */
function wantsCall(
  session: Pick<RoutingSession, 'settings' | 'firstParty' | 'secondParty'>,
): session is typeof session & { firstParty: string; secondParty: string } {
  return session.settings.initiateCallToFirstParty && !!session.firstParty && !!session.secondParty;
}

/** Coded refusals, said at once; anything else only once the tries are over (`last`). */
const REFUSALS: Partial<Record<string, FirstPartyCallFailure>> = {
  [CallErrorCodes.NO_PROVIDER_CREDENTIALS]: 'no-credentials',
  [CallErrorCodes.FORBIDDEN]: 'number-not-held',
  // No inventory holds the number any more.
  [ErrorCodes.NOT_FOUND]: 'number-not-held',
  [CallErrorCodes.PROVIDER_REFUSED]: 'provider-refused',
  [CallErrorCodes.PROVIDER_TIMEOUT]: 'provider-timeout',
  [CallErrorCodes.OUTCOME_UNKNOWN]: 'outcome-unknown',
};

/** What a failed try to call the first party tells its owner, if anything yet. */
export function failureOf(err: unknown, last: boolean): FirstPartyCallFailure | undefined {
  // Ended at once, whatever the delivery.
  if (err instanceof CodedError && !err.retryable) return REFUSALS[err.code] ?? 'unavailable';
  if (!last) return undefined;
  return err instanceof RetryLater ? 'provider-unavailable' : 'unavailable';
}

function isTimeout(err: unknown): boolean {
  if (err instanceof CodedError) return err.code === ErrorCodes.RPC_TIMEOUT;
  return (err as { name?: string } | null)?.name === 'TimeoutError';
}
