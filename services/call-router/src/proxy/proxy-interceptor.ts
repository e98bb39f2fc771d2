import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { proxySessionSidOf, type RoutingSession } from '@maskline/contracts';
import { LOGGER, MetricsService } from '@maskline/observability';
import { ProxyCallbacks, type CallbackBudget } from './proxy-callbacks';

export interface InterceptedInteraction {
  type: 'Voice' | 'Message';
  /** The inbound call's or message's id. */
  resourceSid: string;
  /** What its callback shares with the interaction's others (see CallbackBudget). */
  budget?: CallbackBudget;
}

/**
 * Twilio Proxy's intercept: before each interaction of a Proxy session, its Service's
 * `intercept_callback_url` is asked. A 403 blocks the interaction; any other answer, or none within
 * INTERCEPT_TIMEOUT_MS, lets it through, as Twilio does; with the Service's
 * `intercept_fail_closed`, only a 2xx lets it through. The request carries SIDs and the
 * interaction's type, never a phone number or a message's text.
 */
@Injectable()
export class ProxyInterceptor {
  private readonly outcomes;

  constructor(
    private readonly callbacks: ProxyCallbacks,
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
    const owner = {
      accountId: session.accountId,
      subaccountId: session.subaccountId,
      serviceSid: session.proxyServiceSid,
    };
    const policy = await this.callbacks.policy(owner);
    if (!policy?.interceptCallbackUrl) return true;
    const answer = await this.callbacks.post(
      'intercept',
      owner,
      policy.interceptCallbackUrl,
      {
        interactionSessionSid: proxySessionSidOf(session.sessionId),
        interactionServiceSid: session.proxyServiceSid,
        interactionType: interaction.type,
        inboundResourceSid: interaction.resourceSid,
        inboundResourceType: interaction.type === 'Voice' ? 'Call' : 'Message',
      },
      interaction.budget,
    );
    if (answer.kind === 'failed') {
      this.logger.warn(
        { host: new URL(policy.interceptCallbackUrl).host },
        answer.unasked
          ? 'intercept callback not asked: as many of its account’s intercepts are in flight already'
          : 'intercept callback did not answer in time',
      );
    }
    const verdict = interceptVerdict(
      answer.kind === 'failed' ? 'failed' : answer.status,
      policy.interceptFailClosed,
    );
    this.outcomes.inc({ outcome: verdict });
    return verdict === 'allowed';
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
