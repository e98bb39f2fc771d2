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
  sameHolder,
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
import {
  connectionNeverMade,
  providerAccountBreaker,
  providerApiUrl,
  providerAuthorization,
} from '@maskline/net-guard';
import { toPlivoNumber } from '@maskline/plivo-wire';
import { BreakerRegistry } from '@maskline/resilience';
import {
  CALL_STATE_BUCKET,
  CallState,
  type OutboundParty,
  type OutboundRecord,
  type OutboundSeen,
} from '../calls/call-state';
import { CALL_ROUTER_CONFIG, type CallRouterConfig } from '../config/call-router.config';

const EVENTS = [SessionCreated] as const;
/** Deliveries of a session's creation: a call placed half a minute late is still wanted, later not. */
const OUTBOUND_MAX_DELIVER = 6;
/**
 * How old a SessionCreated may be for the view it carries to be trusted as the session's own:
 * older, the session is read as it is now (it may have ended since).
 */
const LATE_AFTER_MS = 30_000;
/** Past OUTBOUND_TIMEOUT_MS, how long a try placing a call may still be waiting on its provider (its breaker's second, and a slow loop). */
const PLACING_SLACK_MS = 5000;

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
    const said = payload.routing;
    // A session made without the call, as its event says: nothing to read (an older
    // session-service's event says nothing: the session is asked for).
    if (said && !wantsCall(said)) return;
    // Whom the call is for (what a give-up tells), and the claim this try holds or read.
    const ctx: TryContext = { whom: said && wantsCall(said) ? whomOf(said) : undefined, revision: null };
    try {
      // What an earlier try left comes first: a call placed ends quietly, and a give-up not yet
      // told is told, whatever the session is now (ended, or not readable).
      const earlier = await this.state.outbound(payload.sessionId);
      if (earlier && (await this.afterEarlierTry(earlier, ctx, last))) return;
      const session = await this.sessionToCall(payload, meta);
      if (!session) return;
      ctx.whom = whomOf(session);
      await this.callFirstParty(session, ctx, last);
    } catch (err) {
      const reason = failureOf(err, last());
      // A give-up already recorded (its telling failed) is told by the next copy, not given up anew.
      if (reason && ctx.whom && !ctx.recorded) await this.giveUp(ctx.whom, reason, ctx, last, err);
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
   * SessionFirstPartyCallFailed), once: the announcement's id is the session's. The give-up is
   * recorded first, untold, over the claim this try held or read (or as the first claim): a try
   * that loses that compare-and-set (another placed the call, or gave it up) tells nothing. Told,
   * it is recorded so; when it cannot be published the event is retried, and the next copy tells
   * it (at the last delivery the event is given up, counted and logged).
   */
  private async giveUp(
    whom: OutboundParty,
    reason: FirstPartyCallFailure,
    ctx: TryContext,
    last: () => boolean,
    failure: unknown,
  ): Promise<void> {
    const { sessionId } = whom;
    const record: OutboundRecord = {
      state: 'given-up',
      at: new Date().toISOString(),
      reason,
      announced: false,
      whom,
    };
    let revision: number | null | undefined;
    try {
      revision = await this.state.settleOutbound(sessionId, record, ctx.revision);
    } catch (err) {
      this.logger.warn({ err, sessionId }, 'the give-up of the call could not be recorded');
      // Not recorded (KV failing): looked at again while deliveries are left; at the last, told
      // all the same (once, by its id).
      if (!last()) throw new RetryLater('the give-up of the call could not be recorded', 2000);
    }
    if (revision === null) {
      // Another try changed the claim meanwhile. Its outcome stands, unless it only gave the claim
      // back (a retry of its own, which this event's end would cancel): then looked at again.
      const now = await this.state.outbound(sessionId).catch(() => undefined);
      if (now === null && !last()) throw new RetryLater('another try gave the claim back', 1000);
      this.logger.warn(
        { sessionId, reason },
        'the call’s claim changed meanwhile: another try’s outcome stands',
      );
      return;
    }
    this.logger.warn({ sessionId, reason }, 'the first party will not be called');
    if (!(await this.announce(whom, reason, failure))) {
      throw new RetryLater('the failed call to the first party is told at the next delivery', 2000);
    }
    if (revision !== undefined) await this.markTold(sessionId, record, revision);
  }

  /** The give-up recorded at `revision` was told (a later copy then says nothing). */
  private async markTold(sessionId: string, record: OutboundRecord, revision: number): Promise<void> {
    await this.state
      .settleOutbound(sessionId, { ...record, announced: true }, revision)
      .catch((err: unknown) => this.logger.warn({ err, sessionId }, 'told, and not recorded as told'));
  }

  /** SessionFirstPartyCallFailed, once per session (its id is the session's): whether it was published. */
  private async announce(
    whom: OutboundParty,
    reason: FirstPartyCallFailure,
    failure: unknown,
  ): Promise<boolean> {
    return this.events
      .publish(
        FirstPartyCallFailed,
        { ...whom, reason, at: new Date().toISOString() },
        { msgId: `first-party-call-failed:${whom.sessionId}` },
      )
      .then(
        () => true,
        (err: unknown) => {
          this.logger.error(
            { err, failure, sessionId: whom.sessionId, reason },
            'the failed call to the first party could not be announced',
          );
          return false;
        },
      );
  }

  /**
   * What an earlier try left in the claim: true when this try has nothing more to do (the call was
   * placed, or given up and told; a give-up not told is told now, from whom the claim names). A
   * claim still being placed is left to its try while that try may still be waiting on the
   * provider (by NATS's time of the claim); after that, or at the last delivery, its outcome is
   * unknown: it may have rung, so it is not placed again, and it is told.
   */
  private async afterEarlierTry(
    earlier: OutboundSeen,
    ctx: TryContext,
    last: () => boolean,
  ): Promise<boolean> {
    const { record, revision } = earlier;
    ctx.whom ??= record.whom;
    if (record.state === 'placed') {
      this.logger.info({ sessionId: record.whom?.sessionId }, 'first party already called');
      return true;
    }
    if (record.state === 'given-up') {
      const whom = record.whom ?? ctx.whom;
      if (record.announced !== false || !record.reason || !whom) return true;
      if (!(await this.announce(whom, record.reason, 'told at a later delivery'))) {
        ctx.recorded = true;
        throw new RetryLater('the failed call to the first party is told at the next delivery', 2000);
      }
      await this.markTold(whom.sessionId, { ...record, whom }, revision);
      return true;
    }
    const placingFor = Date.now() - earlier.storedAt.getTime();
    const mayStillAnswer = this.config.OUTBOUND_TIMEOUT_MS + PLACING_SLACK_MS;
    // Held: should this turn out to be the last delivery, the give-up replaces this claim.
    ctx.revision = revision;
    if (placingFor < mayStillAnswer && !last()) {
      throw new RetryLater('another try is placing the call to the first party', mayStillAnswer - placingFor);
    }
    throw new CodedError(
      CallErrorCodes.OUTCOME_UNKNOWN,
      'an earlier try to call the first party was cut short: the call may have been placed',
    );
  }

  private async callFirstParty(
    session: RoutingSession & { firstParty: string },
    ctx: TryContext,
    last: () => boolean,
  ): Promise<void> {
    const number = await this.rpc.request(GetNumberRouting, { number: session.virtualNumber });
    if (!number.credentials) {
      throw new CodedError(
        CallErrorCodes.NO_PROVIDER_CREDENTIALS,
        `number ${session.virtualNumber} has no provider credentials to place calls with`,
      );
    }
    // Its session's owner's still: not another account's, nor moved to another of its account's
    // holders (a subaccount, the main account), whose credentials it would be placed on.
    if (number.accountId !== session.accountId || !sameHolder(number.subaccountId, session.subaccountId)) {
      throw new CodedError(
        CallErrorCodes.FORBIDDEN,
        `number ${session.virtualNumber} belongs to another account or subaccount now`,
      );
    }
    const revision = await this.state.claimOutbound(whomOf(session));
    if (revision === null) {
      // Another try claimed it since it was read: what it left decides.
      const earlier = await this.state.outbound(session.sessionId);
      if (earlier && (await this.afterEarlierTry(earlier, ctx, last))) return;
      throw new RetryLater('another try’s claim came and went: the call is looked at again', 1000);
    }
    ctx.revision = revision;
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
    const res = await this.place(session.sessionId, ctx, () =>
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
    // Busy or down (429, 503): it took nothing, and the call is tried again. Any other 5xx may
    // come after the provider made the call (a gateway's timeout): it may have been placed.
    if (res.status === 429 || res.status === 503) {
      await this.release(session.sessionId, ctx);
      throw new RetryLater(`${number.provider} answered ${res.status}`, 2000);
    }
    if (res.status >= 500) {
      throw new CodedError(
        CallErrorCodes.OUTCOME_UNKNOWN,
        `${number.provider} answered ${res.status}: the call may have been placed`,
      );
    }
    if (res.status >= 300) {
      throw new CodedError(
        CallErrorCodes.PROVIDER_REFUSED,
        `${number.provider} refused the call: HTTP ${res.status}`,
      );
    }
    const placed = { state: 'placed' as const, at: new Date().toISOString() };
    const recorded = await this.state
      .settleOutbound(session.sessionId, { ...placed, whom: whomOf(session) }, revision)
      .catch((err: unknown) => {
        this.logger.warn({ err, sessionId: session.sessionId }, 'the placed call could not be recorded');
        return 0;
      });
    if (recorded === null) {
      this.logger.error(
        { sessionId: session.sessionId },
        'the first party was called after another try told its owner the call may have been placed',
      );
    }
    this.logger.info({ sessionId: session.sessionId, provider: number.provider }, 'called the first party');
  }

  /**
   * Sends the request. When it never reached the provider (an open breaker, a connection refused or
   * never made) the claim is given back and the event retried. When it may have reached it (a
   * timeout, a connection cut after the request was sent) the call may have been placed, so it is
   * not retried: ringing someone twice is worse than not at all.
   */
  private async place(
    sessionId: string,
    claim: TryContext,
    send: () => Promise<Response>,
  ): Promise<Response> {
    try {
      return await send();
    } catch (err) {
      if (isTimeout(err)) {
        throw new CodedError(
          CallErrorCodes.PROVIDER_TIMEOUT,
          'the provider did not answer the call request in time',
        );
      }
      if (!sentNothing(err)) {
        throw new CodedError(
          CallErrorCodes.OUTCOME_UNKNOWN,
          'the connection to the provider failed after the call request was sent: the call may have been placed',
        );
      }
      await this.release(sessionId, claim);
      throw new RetryLater('the provider could not be reached', 2000);
    }
  }

  /** The claim this try holds, given back: a retry may place the call, and a give-up is the first claim. */
  private async release(sessionId: string, claim: TryContext): Promise<void> {
    if (claim.revision === null) return;
    await this.state.releaseOutbound(sessionId, claim.revision);
    claim.revision = null;
  }
}

/** What one try knows of the call: whom it is for, and the claim it holds or read (null: none). */
interface TryContext {
  whom: OutboundParty | undefined;
  revision: number | null;
  /** The outcome is recorded already (a give-up whose telling failed): nothing to give up anew. */
  recorded?: boolean;
}

function whomOf(
  session: Pick<RoutingSession, 'accountId' | 'sessionId' | 'virtualNumber'> & { firstParty: string },
): OutboundParty {
  const { accountId, sessionId, virtualNumber, firstParty } = session;
  return { accountId, sessionId, virtualNumber, firstParty };
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

/** Whether the call request cannot have reached the provider: its breaker refused it, or no connection was made. */
export function sentNothing(err: unknown): boolean {
  if (err instanceof CodedError) return err.code === ErrorCodes.CIRCUIT_OPEN;
  return connectionNeverMade(err);
}

function isTimeout(err: unknown): boolean {
  if (err instanceof CodedError) return err.code === ErrorCodes.RPC_TIMEOUT;
  return (err as { name?: string } | null)?.name === 'TimeoutError';
}
