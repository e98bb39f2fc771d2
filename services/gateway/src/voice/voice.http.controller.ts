import { All, Controller, HttpCode, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { RouteCall, e164Schema, type CallAction, type TelephonyProvider } from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { verifyPlivoV3Signature, verifyTwilioSignature } from '@maskline/webhook-signatures';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { NumberRoutingCache } from './number-routing.cache';
import { renderPlivoXml } from './plivo-xml.renderer';
import { renderTwiml } from './twiml.renderer';
import { VOICE_STAGES, toRouteRequest, type VoiceStage } from './voice-request';

const UNAVAILABLE: CallAction[] = [
  { type: 'say', text: 'We cannot connect your call right now. Please try again later. Goodbye.' },
  { type: 'hangup' },
];

/**
 * Telephony webhooks at fixed paths: `/voice/plivo/answer`, `/voice/twilio/answer`, and the
 * follow-ups Maskline writes into its own XML (`pin`, `dial-ended`, `dial-event`, `hangup`,
 * `outbound-answer`). The provider's signature is checked before anything else (403 otherwise),
 * with the credentials stored for the virtual number. Every answer is valid XML of the dialect,
 * within VOICE_DECISION_TIMEOUT_MS: when a dependency is down the caller hears a short message and
 * the call ends; the provider never sees a 5xx, an empty body or a timeout.
 */
@ApiExcludeController()
@Controller('voice')
export class VoiceHttpController {
  private readonly latency;
  private readonly outcomes;

  constructor(
    private readonly rpc: RpcClient,
    private readonly numbers: NumberRoutingCache,
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

  @All(':provider/:stage')
  @HttpCode(200)
  async webhook(
    @Param('provider') provider: string,
    @Param('stage') stage: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if ((provider !== 'plivo' && provider !== 'twilio') || !VOICE_STAGES.includes(stage as VoiceStage)) {
      res.status(404).type('text/plain').send('not found');
      return;
    }
    const dialect = provider as TelephonyProvider;
    const end = this.latency.startTimer({ provider: dialect, stage });
    const params = stringParams(req.method === 'POST' ? req.body : {});
    const query = stringParams(req.query);
    const requestUrl = `${this.config.PUBLIC_BASE_URL.replace(/\/$/, '')}${req.originalUrl}`;

    if (!(await this.signatureValid(dialect, req, requestUrl, params, query))) {
      this.outcomes.inc({ provider: dialect, outcome: 'bad-signature' });
      res.status(403).type('text/plain').send('invalid or missing webhook signature');
      end();
      return;
    }
    let actions: CallAction[];
    try {
      const decision = await this.rpc.request(
        RouteCall,
        toRouteRequest(dialect, stage as VoiceStage, params, query),
        {
          timeoutMs: this.config.VOICE_DECISION_TIMEOUT_MS,
        },
      );
      actions = decision.actions;
      this.outcomes.inc({ provider: dialect, outcome: 'routed' });
    } catch (err) {
      this.logger.warn(
        { err, provider: dialect, stage },
        'routing unavailable: answering with a short message',
      );
      this.outcomes.inc({ provider: dialect, outcome: 'fallback' });
      actions = stage === 'answer' || stage === 'pin' || stage === 'outbound-answer' ? UNAVAILABLE : [];
    }
    const url = (path: string) =>
      `${this.config.PUBLIC_BASE_URL.replace(/\/$/, '')}/voice/${dialect}/${path}`;
    const xml = dialect === 'plivo' ? renderPlivoXml(actions, url) : renderTwiml(actions, url);
    res.status(200).type('application/xml').send(xml);
    end();
  }

  /** The virtual number names the credentials: Maskline's own `vn`, else To, else From. */
  private async signatureValid(
    provider: TelephonyProvider,
    req: Request,
    url: string,
    params: Record<string, string>,
    query: Record<string, string>,
  ): Promise<boolean> {
    if (!this.config.WEBHOOK_SIGNATURE_CHECK) return true;
    const candidates = [query.vn, params.To, params.From].filter((n): n is string => !!n).map(toE164);
    for (const number of candidates) {
      const routing = await this.numbers.get(number).catch(() => null);
      if (!routing?.credentials || routing.provider !== provider) continue;
      const token = routing.credentials.authToken;
      if (provider === 'plivo') {
        const nonce = req.header('x-plivo-signature-v3-nonce');
        const signature = req.header('x-plivo-signature-v3') ?? req.header('x-plivo-signature-ma-v3');
        if (!nonce || !signature) return false;
        return verifyPlivoV3Signature(
          req.method === 'GET' ? 'GET' : 'POST',
          url,
          req.method === 'POST' ? params : {},
          nonce,
          token,
          signature,
        );
      }
      const signature = req.header('x-twilio-signature');
      if (!signature) return false;
      return verifyTwilioSignature(token, url, req.method === 'POST' ? params : {}, signature);
    }
    return false;
  }
}

function stringParams(source: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!source || typeof source !== 'object') return out;
  for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/** Plivo sends numbers without `+`. */
function toE164(n: string): string {
  const candidate = n.startsWith('+') ? n : `+${n}`;
  return e164Schema.safeParse(candidate).success ? candidate : n;
}
