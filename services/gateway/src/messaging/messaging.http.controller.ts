import { Controller, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import {
  CallErrorCodes,
  CodedError,
  ErrorCodes,
  MessageReceived,
  MessageTextSeal,
  STREAMS,
  e164Schema,
} from '@maskline/contracts';
import { EventPublisher, NumberRoutingCache, type AllowanceOwner } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { CLOCK, type Clock } from '@maskline/service-kit';

import { InboundWebhookLimiter } from '../auth/inbound-webhook-limiter';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { signedUrlOf } from '../http/signed-url';
import { ReplayGuard } from '../voice/replay-guard';
import { stringParams, type WebhookParams } from '../voice/webhook-dialect';
import {
  plivoMessages,
  takenMessage,
  twilioMessages,
  type InboundMessage,
  type MessageDialect,
} from './message-dialect';
import { TakenMessages } from './taken-messages';

/** By the path's provider segment: a Map, so `constructor` or `__proto__` in a path names no dialect. */
const DIALECTS: ReadonlyMap<string, MessageDialect> = new Map([
  ['plivo', plivoMessages],
  ['twilio', twilioMessages],
]);

/**
 * Message webhooks: `POST /messaging/plivo/inbound` and `/messaging/twilio/inbound`. Trusted as
 * voice webhooks are: the number the message was sent to must be served by Maskline, with the
 * same provider, and its stored credentials must verify the signature; otherwise 403 and nothing
 * happens. A message taken is published (sealed, deduplicated by the provider's message id) and
 * answered at once, empty; the relay runs from the stream. When it cannot be published the
 * provider gets a 503 and sends it again. Past the number owner's inbound limit
 * (InboundWebhookLimiter) it is refused with 429, unpublished. A copy of a message this replica took
 * lately is answered 200 at once, spending and publishing nothing (TakenMessages).
 */
@ApiExcludeController()
@Controller('messaging')
export class MessagingHttpController {
  private readonly outcomes;
  private readonly seal: MessageTextSeal;
  private readonly taken: TakenMessages;

  constructor(
    private readonly numbers: NumberRoutingCache,
    private readonly events: EventPublisher,
    private readonly limiter: InboundWebhookLimiter,
    private readonly replay: ReplayGuard,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
    @Inject(CLOCK) clock: Clock,
  ) {
    this.outcomes = metrics.counter('maskline_message_webhooks_total', 'Message webhooks by outcome', [
      'provider',
      'outcome',
    ]);
    this.seal = new MessageTextSeal(config.CALL_CONTEXT_KEYS);
    this.taken = new TakenMessages(clock, STREAMS[MessageReceived.stream].duplicateWindowMs);
  }

  @Post(':provider/inbound')
  @HttpCode(200)
  async inbound(
    @Param('provider') provider: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const dialect = DIALECTS.get(provider);
    if (!dialect) throw CodedError.notFound(`no message webhook at ${req.path.slice(0, 80)}`);
    const params = stringParams(req.body);
    const { owner, signedBy } = await this.authenticate(dialect, req, params);
    const { accountId } = owner;
    const message = takenMessage(dialect, params);
    if ('field' in message) {
      // A signed webhook its provider would not send: counted, and logged by its parameter's name only.
      this.outcomes.inc({ provider, outcome: 'invalid' });
      this.logger.warn(
        { provider, accountId, field: message.field },
        'message webhook refused: invalid parameter',
      );
      throw CodedError.validation(message.field, `${message.field} ${message.rule}`);
    }
    // Scoped to the number its credentials verified: an id another tenant chose for its own
    // number's webhook cannot shadow this one.
    const msgId = `message-received:${provider}:${message.to}:${message.messageId}`;
    // Remembered under the owner: a number that changes hands starts afresh.
    const outcome = await this.taken.once(accountId, msgId, async () => {
      // Its owner's allowance first: a flood past it writes no replay keys (the bucket is bounded and
      // forgets its oldest first, other tenants' among them). A re-split refused then has spent one.
      await this.takeAllowance(provider, owner);
      // The message as its copies are known (msgId): the number and the provider's id.
      await this.notResplit(dialect, req, signedBy, `${message.to}|${message.messageId}`);
      await this.publish(dialect, owner, message, msgId);
    });
    // Taken again: a copy of a message taken already, answered as it was.
    this.outcomes.inc({ provider, outcome });
    res.status(200).type(dialect.accepted.contentType).send(dialect.accepted.body);
  }

  /**
   * 403 when this very signed request (Plivo's nonce, Twilio's signature) was taken before
   * as another message: both providers sign `keyvalue` pairs joined with nothing between, so a
   * captured webhook re-split (its next parameter folded into the id, or parameters planted in the
   * text split out) keeps its signature and would name a new id, a forged sender, or another number.
   * The same request for the same message (`message`: its number and id, as its copies are known; the
   * provider sending it again until answered) goes on. 503 if it cannot be asked.
   */
  private async notResplit(
    dialect: MessageDialect,
    req: Request,
    signedBy: string | null,
    message: string,
  ): Promise<void> {
    const key = dialect.signing.requestKey(req);
    // Unsigned, or not checked: only where signatures are not checked (WEBHOOK_SIGNATURE_CHECK off).
    if (!key || !signedBy) return;
    let first: boolean;
    try {
      // Per provider account, not per number: a re-split can also move a text to another number its
      // provider account holds (Plivo's `To` comes after `Text`), with the same nonce.
      first = await this.replay.firstFor(`${dialect.provider}:${signedBy}|${key}`, message);
    } catch (err) {
      this.outcomes.inc({ provider: dialect.provider, outcome: 'unavailable' });
      throw new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the message could not be taken; retry', {
        retryable: true,
        cause: err,
      });
    }
    if (!first) this.refuse(dialect, 'signed request taken before as another message');
  }

  /** One of the number owner's inbound allowance (InboundWebhookLimiter), or 429 (503 if it cannot be asked). */
  private async takeAllowance(provider: string, owner: AllowanceOwner): Promise<void> {
    const { accountId } = owner;
    await this.limiter.take(owner, 'start').catch((err: unknown) => {
      if (!InboundWebhookLimiter.refused(err)) {
        this.outcomes.inc({ provider, outcome: 'unavailable' });
        throw new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the message could not be taken; retry', {
          retryable: true,
          cause: err,
        });
      }
      this.outcomes.inc({ provider, outcome: 'over-limit' });
      this.logger.warn({ err, provider, accountId }, 'message webhook over its account’s inbound limit');
      throw err;
    });
  }

  /** The message in the stream, its text and media sealed (to its number and id), or 503 for the provider to send it again. */
  private async publish(
    dialect: MessageDialect,
    owner: AllowanceOwner,
    message: InboundMessage,
    msgId: string,
  ): Promise<void> {
    const provider = dialect.provider;
    const binding = { provider, providerMessageId: message.messageId, virtualNumber: message.to };
    try {
      await this.events.publish(
        MessageReceived,
        {
          provider,
          providerMessageId: message.messageId,
          accountId: owner.accountId,
          subaccountId: owner.subaccountId ?? null,
          virtualNumber: message.to,
          sender: message.from.slice(0, 32),
          ...this.seal.sealContent(message.text, message.media, binding),
          at: new Date().toISOString(),
        },
        { msgId },
      );
    } catch (err) {
      this.outcomes.inc({ provider, outcome: 'unavailable' });
      // The provider sends it again on a 5xx: nothing is lost, and its id makes it one event.
      throw new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the message could not be taken; retry', {
        retryable: true,
        cause: err,
      });
    }
  }

  /** 403, counted and logged with its reason (never the message). */
  private refuse(dialect: MessageDialect, reason: string): never {
    this.outcomes.inc({ provider: dialect.provider, outcome: 'refused' });
    this.logger.warn(
      { code: CallErrorCodes.FORBIDDEN, provider: dialect.provider, reason },
      'message webhook refused',
    );
    throw new CodedError(
      CallErrorCodes.FORBIDDEN,
      'webhook refused: not signed for this virtual number by its provider account',
    );
  }

  /**
   * The owner of the number whose credentials verified the webhook, and the provider account whose
   * token signed it (`signedBy`; null where signatures are not checked).
   */
  private async authenticate(
    dialect: MessageDialect,
    req: Request,
    params: WebhookParams,
  ): Promise<{ owner: AllowanceOwner; signedBy: string | null }> {
    const refuse = (reason: string) => this.refuse(dialect, reason);
    const check = this.config.WEBHOOK_SIGNATURE_CHECK;
    if (check && !dialect.signing.signed(req)) return refuse('unsigned');
    const to = dialect.to(params);
    if (!to || !e164Schema.safeParse(to).success) return refuse('no virtual number named');
    let routing;
    try {
      routing = await this.numbers.get(to, { unauthenticated: true });
    } catch (err) {
      throw new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the message could not be taken; retry', {
        retryable: true,
        cause: err,
      });
    }
    // A deleted number still serves the sessions that live on it (as for calls) until they end.
    if (!routing) return refuse('number is in no inventory');
    if (routing.provider !== dialect.provider) return refuse('number is served by another provider');
    if (check) {
      if (!routing.credentials) return refuse('number has no provider credentials');
      const url = signedUrlOf(this.config.PUBLIC_BASE_URL, req);
      if (!url || !dialect.signing.signatureValid(req, url, params, routing.credentials.authToken)) {
        return refuse('signature does not verify with the number’s credentials');
      }
      const account = dialect.signing.providerAccount(params);
      if (account !== undefined && account !== routing.credentials.accountId) {
        return refuse('provider account is not the number’s');
      }
    }
    return {
      owner: { accountId: routing.accountId, subaccountId: routing.subaccountId },
      signedBy: check && routing.credentials ? routing.credentials.accountId : null,
    };
  }
}
