import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  CallErrorCodes,
  CodedError,
  ErrorCodes,
  GetNumberRouting,
  GetRoutingSession,
  SessionCreated,
  followUpUrl,
  type FollowUp,
} from '@maskline/contracts';
import { DurableConsumer, RetryLater, RpcClient, type EventMeta, type EventOf } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { providerAccountBreaker, providerApiUrl, providerAuthorization } from '@maskline/net-guard';
import { toPlivoNumber } from '@maskline/plivo-wire';
import { BreakerRegistry } from '@maskline/resilience';
import { CALL_STATE_BUCKET, CallState } from '../calls/call-state';
import { CALL_ROUTER_CONFIG, type CallRouterConfig } from '../config/call-router.config';

const EVENTS = [SessionCreated] as const;
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
    private readonly breakers: BreakerRegistry,
    private readonly state: CallState,
    @Inject(CALL_ROUTER_CONFIG) private readonly config: CallRouterConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @DurableConsumer({
    durable: 'call-router-initiate-calls',
    events: EVENTS,
    oncePer: [CALL_STATE_BUCKET],
    maxDeliver: 6,
    retryBaseMs: 1000,
  })
  async onSessionCreated({ payload }: EventOf<typeof EVENTS>, meta: EventMeta): Promise<void> {
    // The event carries the session's routing view (one from an older session-service does not:
    // ask). A late one (a backlog after an outage, a retry) may describe a session since ended, and
    // its first party is not to be called for that: the session as it is now is asked for.
    const late = Date.now() - meta.publishedAt.getTime() > LATE_AFTER_MS;
    const session =
      (late ? undefined : payload.routing) ??
      (await this.rpc.request(GetRoutingSession, { sessionId: payload.sessionId })).session;
    if (!session?.settings.initiateCallToFirstParty || !session.firstParty || !session.secondParty) return;
    if (session.status !== 'active' || Date.parse(session.expiresAt) <= Date.now()) {
      this.logger.info({ sessionId: session.sessionId }, 'session ended before its first party was called');
      return;
    }
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
    if (!(await this.state.claimOutbound(session.sessionId))) {
      this.logger.info({ sessionId: session.sessionId }, 'first party already called for this session');
      return;
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
    await res.arrayBuffer();
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

function isTimeout(err: unknown): boolean {
  if (err instanceof CodedError) return err.code === ErrorCodes.RPC_TIMEOUT;
  return (err as { name?: string } | null)?.name === 'TimeoutError';
}
