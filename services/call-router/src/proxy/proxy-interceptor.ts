import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  CodedError,
  ErrorCodes,
  GetCallbackSigningToken,
  GetProxyServicePolicy,
  proxySessionSidOf,
  type RoutingSession,
} from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { BreakerRegistry } from '@maskline/resilience';
import { twilioSignature } from '@maskline/webhook-signatures';
import { CALL_ROUTER_CONFIG, type CallRouterConfig } from '../config/call-router.config';

/** How long a replica keeps a Service's policy and an account's signing token. */
const POLICY_TTL_MS = 10_000;
const TOKEN_TTL_MS = 60_000;

export interface InterceptedInteraction {
  type: 'Voice' | 'Message';
  /** The inbound call's or message's id. */
  resourceSid: string;
}

type Policy = { interceptCallbackUrl: string | null; interceptFailClosed: boolean };

/**
 * Twilio Proxy's intercept: before each interaction of a Proxy session, its Service's
 * `intercept_callback_url` is asked (signed with X-Twilio-Signature and the account's Auth Token).
 * A 403 blocks the interaction; any other answer, or none within INTERCEPT_TIMEOUT_MS, lets it
 * through, as Twilio does; with the Service's `intercept_fail_closed`, only a 2xx lets it through.
 * The request carries SIDs and the interaction's type, never a phone number or a message's text.
 */
@Injectable()
export class ProxyInterceptor {
  private readonly policies = new Map<string, { value: Policy; until: number }>();
  private readonly tokens = new Map<string, { value: string; until: number }>();
  private readonly outcomes;

  constructor(
    private readonly rpc: RpcClient,
    private readonly breakers: BreakerRegistry,
    @Inject(CALL_ROUTER_CONFIG) private readonly config: CallRouterConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.outcomes = metrics.counter('maskline_proxy_intercepts_total', 'Intercept callbacks by outcome', [
      'outcome',
    ]);
  }

  /** Whether the interaction may go ahead (always, for a session with no Proxy Service or no intercept). */
  async allows(session: RoutingSession, interaction: InterceptedInteraction): Promise<boolean> {
    if (!session.proxyServiceSid) return true;
    const policy = await this.policy(session);
    if (!policy?.interceptCallbackUrl) return true;
    const url = policy.interceptCallbackUrl;
    const params: Record<string, string> = {
      interactionSessionSid: proxySessionSidOf(session.sessionId),
      interactionServiceSid: session.proxyServiceSid,
      interactionType: interaction.type,
      inboundResourceSid: interaction.resourceSid,
      inboundResourceType: interaction.type === 'Voice' ? 'Call' : 'Message',
    };
    const token = await this.token(session.accountId, session.subaccountId);
    let status: number | 'failed';
    try {
      status = await this.breakers.fire(`intercept:${new URL(url).host}`, async () => {
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': twilioSignature(token, url, params),
          },
          body: new URLSearchParams(params).toString(),
          redirect: 'manual',
          signal: AbortSignal.timeout(this.config.INTERCEPT_TIMEOUT_MS),
        });
        await res.body?.cancel();
        return res.status;
      });
    } catch (err) {
      this.logger.warn(
        {
          code: err instanceof CodedError ? err.code : ErrorCodes.DEPENDENCY_UNAVAILABLE,
          host: new URL(url).host,
        },
        'intercept callback did not answer',
      );
      status = 'failed';
    }
    const allowed =
      status === 403
        ? false
        : policy.interceptFailClosed
          ? status !== 'failed' && status >= 200 && status < 300
          : true;
    this.outcomes.inc({ outcome: allowed ? 'allowed' : status === 403 ? 'blocked' : 'blocked-fail-closed' });
    return allowed;
  }

  /** The Service's policy; a Service since deleted has none (its sessions' interactions go ahead). */
  private async policy(session: RoutingSession): Promise<Policy | null> {
    const key = `${session.accountId}/${session.subaccountId ?? ''}/${session.proxyServiceSid}`;
    const hit = this.policies.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    let value: Policy | null;
    try {
      value = await this.rpc.request(GetProxyServicePolicy, {
        accountId: session.accountId,
        subaccountId: session.subaccountId,
        serviceSid: session.proxyServiceSid!,
      });
    } catch (err) {
      if (!(err instanceof CodedError) || err.code !== ErrorCodes.NOT_FOUND) throw err;
      value = null;
    }
    this.policies.set(key, {
      value: value ?? { interceptCallbackUrl: null, interceptFailClosed: false },
      until: Date.now() + POLICY_TTL_MS,
    });
    return value;
  }

  private async token(accountId: string, subaccountId: string | null): Promise<string> {
    const key = subaccountId ?? accountId;
    const hit = this.tokens.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    const { authToken } = await this.rpc.request(GetCallbackSigningToken, {
      accountId,
      subaccountId: subaccountId ?? undefined,
    });
    this.tokens.set(key, { value: authToken, until: Date.now() + TOKEN_TTL_MS });
    return authToken;
  }
}

/**
 * What an intercept's answer decides: a 403 blocks; otherwise the interaction goes ahead, unless
 * the Service fails closed and the answer was not a 2xx (or there was none).
 */
export function interceptVerdict(
  status: number | 'failed',
  failClosed: boolean,
): 'allowed' | 'blocked' | 'blocked-fail-closed' {
  if (status === 403) return 'blocked';
  if (!failClosed) return 'allowed';
  return status !== 'failed' && status >= 200 && status < 300 ? 'allowed' : 'blocked-fail-closed';
}
