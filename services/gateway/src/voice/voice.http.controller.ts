import { All, Controller, HttpCode, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import {
  CALL_CONTEXT_PARAM,
  CallErrorCodes,
  CodedError,
  ErrorCodes,
  RouteCall,
  VOICE_STAGES,
  type CallAction,
  type VoiceStage,
} from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { InboundWebhookLimiter, inboundKindOf } from '../auth/inbound-webhook-limiter';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { signedUrlOf } from '../http/signed-url';
import { FollowUpUrls } from './follow-up-urls';
import { plivoWebhook } from './plivo-webhook.dialect';
import { renderPlivoXml } from './plivo-xml.renderer';
import { renderTwiml } from './twiml.renderer';
import { twilioWebhook } from './twilio-webhook.dialect';
import { WebhookAuthenticator, type VerifiedWebhook } from './webhook-authenticator';
import { stringParams, type WebhookDialect, type WebhookParams } from './webhook-dialect';

const UNAVAILABLE: CallAction[] = [
  { type: 'say', text: 'We cannot connect your call right now. Please try again later. Goodbye.' },
  { type: 'hangup' },
];
/** By the path's provider segment: a Map, so `constructor` or `__proto__` in a path names no dialect. */
const DIALECTS: ReadonlyMap<string, WebhookDialect> = new Map([
  ['plivo', plivoWebhook],
  ['twilio', twilioWebhook],
]);
/** Stages where a caller is on the line waiting for what to hear next. */
const CALLER_WAITING: ReadonlySet<VoiceStage> = new Set(['answer', 'pin', 'outbound-answer']);

/**
 * Telephony webhooks at fixed paths: `/voice/plivo/answer`, `/voice/twilio/answer`, and the
 * follow-ups Maskline writes into its own XML (`pin`, `dial-ended`, `dial-event`, `hangup`,
 * `outbound-answer`, `recording`). The request is authenticated first (`WebhookAuthenticator`:
 * one number, its credentials, Maskline's signed call context, replay memory): 403 otherwise, and
 * nothing is processed. Every answer is valid XML of the dialect, within VOICE_DECISION_TIMEOUT_MS:
 * when a dependency is down the caller hears a short message and the call ends; the provider
 * never sees a 5xx, an empty body or a timeout.
 */
@ApiExcludeController()
@Controller('voice')
export class VoiceHttpController {
  private readonly latency;
  private readonly outcomes;

  constructor(
    private readonly rpc: RpcClient,
    private readonly authenticator: WebhookAuthenticator,
    private readonly followUps: FollowUpUrls,
    private readonly limiter: InboundWebhookLimiter,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.latency = metrics.histogram('maskline_voice_webhook_seconds', 'Time to answer a telephony webhook', [
      'provider',
      'stage',
    ]);
    this.outcomes = metrics.counter('maskline_voice_webhooks_total', 'Telephony webhooks by outcome', [
      'provider',
      'outcome',
    ]);
  }

  /** Providers POST by default; Plivo can be set to GET (its parameters then come in the query). */
  @All(':provider/:stage')
  @HttpCode(200)
  async webhook(
    @Param('provider') provider: string,
    @Param('stage') stage: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const dialect = DIALECTS.get(provider);
    if (!dialect || !VOICE_STAGES.includes(stage as VoiceStage)) {
      throw CodedError.notFound(`no telephony webhook at ${req.path.slice(0, 80)}`);
    }
    if (req.method !== 'POST' && req.method !== 'GET') {
      throw new CodedError(
        ErrorCodes.METHOD_NOT_ALLOWED,
        `method ${req.method} is not allowed here; use GET, POST`,
        {
          details: { allow: 'GET, POST' },
        },
      );
    }
    const voiceStage = stage as VoiceStage;
    const end = this.latency.startTimer({ provider, stage });
    const query = stringParams(req.query);
    const { [CALL_CONTEXT_PARAM]: _context, ...queryParams } = query;
    const params = req.method === 'POST' ? stringParams(req.body) : queryParams;
    const requestUrl = signedUrlOf(this.config.PUBLIC_BASE_URL, req);
    if (requestUrl === null) {
      end();
      this.refuse(dialect, voiceStage, 'request target is no URL');
    }

    const verdict = await this.authenticator.authenticate(
      dialect,
      voiceStage,
      req,
      requestUrl,
      params,
      query,
    );
    if (verdict.kind === 'refused') {
      end();
      this.refuse(dialect, voiceStage, verdict.reason);
    }
    let actions: CallAction[];
    if (verdict.kind === 'unavailable') {
      actions = this.unavailable(dialect, voiceStage, verdict.err);
    } else if (verdict.kind === 'over-limit') {
      actions = this.overLimit(dialect, voiceStage, verdict.accountId, undefined);
    } else {
      try {
        const heldBack = await this.overAllowance(dialect, voiceStage, verdict.webhook);
        if (heldBack) {
          actions = heldBack;
        } else {
          actions = await this.route(dialect, voiceStage, verdict.webhook, params);
          this.outcomes.inc({ provider, outcome: 'routed' });
        }
      } catch (err) {
        if (err instanceof CodedError && err.code === CallErrorCodes.FORBIDDEN) {
          end();
          this.refuse(dialect, voiceStage, err.message);
        }
        actions = this.unavailable(dialect, voiceStage, err);
      }
    }
    const url =
      verdict.kind === 'accepted'
        ? this.followUps.for({
            provider: dialect.provider,
            virtualNumber: verdict.webhook.virtualNumber,
            accountId: verdict.webhook.accountId,
            callId: verdict.webhook.callId,
            direction: verdict.webhook.direction,
          })
        : () => {
            throw new Error('no follow-up without an accepted webhook');
          };
    const xml = dialect.provider === 'plivo' ? renderPlivoXml(actions, url) : renderTwiml(actions, url);
    res.status(200).type('application/xml').send(xml);
    end();
  }

  private async route(
    dialect: WebhookDialect,
    stage: VoiceStage,
    webhook: VerifiedWebhook,
    params: WebhookParams,
  ): Promise<CallAction[]> {
    const { context } = webhook;
    const decision = await this.rpc.request(
      RouteCall,
      {
        provider: dialect.provider,
        stage,
        virtualNumber: webhook.virtualNumber,
        accountId: webhook.accountId,
        subaccountId: webhook.subaccountId,
        callId: webhook.callId,
        caller: webhook.caller,
        context: context
          ? {
              stage: context.stage,
              sessionId: context.sessionId,
              pinAttempt: context.pinAttempt,
              callerRegistered: context.callerRegistered,
              recording: context.recording,
            }
          : null,
        ...dialect.legReport(stage, params, context),
      },
      // The number owner's breaker: its Proxy Services' own callbacks, called on the way, are its
      // to make slow, and its calls timing out must not stop every tenant's calls being routed.
      { timeoutMs: this.config.VOICE_DECISION_TIMEOUT_MS, breakerScope: webhook.accountId },
    );
    return decision.actions;
  }

  /**
   * Spends one of the number owner's inbound allowance (`InboundWebhookLimiter`, `inboundKindOf`).
   * What the webhook is answered with when the account is over it (counted and logged); undefined
   * when it may be routed. A failure of the limiter itself is an outage, thrown.
   */
  private async overAllowance(
    dialect: WebhookDialect,
    stage: VoiceStage,
    webhook: VerifiedWebhook,
  ): Promise<CallAction[] | undefined> {
    try {
      await this.limiter.take(webhook, inboundKindOf(stage, webhook.context !== null));
      return undefined;
    } catch (err) {
      if (!InboundWebhookLimiter.refused(err)) throw err;
      return this.overLimit(dialect, stage, webhook.accountId, err);
    }
  }

  /** Over the owner's inbound allowance: counted, logged, and answered as an outage is. */
  private overLimit(
    dialect: WebhookDialect,
    stage: VoiceStage,
    accountId: string,
    err: unknown,
  ): CallAction[] {
    this.outcomes.inc({ provider: dialect.provider, outcome: 'over-limit' });
    this.logger.warn(
      { err, provider: dialect.provider, stage, accountId },
      'telephony webhook over its account’s inbound limit',
    );
    return CALLER_WAITING.has(stage) ? UNAVAILABLE : [];
  }

  /** 403 in the API's error shape; why is logged, not told (it would guide a forger). */
  private refuse(dialect: WebhookDialect, stage: VoiceStage, reason: string): never {
    this.outcomes.inc({ provider: dialect.provider, outcome: 'refused' });
    this.logger.warn(
      { code: CallErrorCodes.FORBIDDEN, provider: dialect.provider, stage, reason },
      'telephony webhook refused',
    );
    throw new CodedError(
      CallErrorCodes.FORBIDDEN,
      'webhook refused: not signed for this virtual number and call, or already seen',
    );
  }

  /** A dependency is down: a caller on the line hears "try again later"; a status report gets an empty answer. */
  private unavailable(dialect: WebhookDialect, stage: VoiceStage, err: unknown): CallAction[] {
    const code = err instanceof CodedError ? err.code : ErrorCodes.RPC_UNAVAILABLE;
    this.logger.warn(
      { err, code, provider: dialect.provider, stage },
      'routing unavailable: answering with a short message',
    );
    this.outcomes.inc({ provider: dialect.provider, outcome: 'unavailable' });
    return CALLER_WAITING.has(stage) ? UNAVAILABLE : [];
  }
}
