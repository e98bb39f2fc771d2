import { TwilioApiBase, TwilioApiController } from './twilio-api.controller';
import { PROXY_REFS } from './proxy-ref.pipe';
import { createHash, randomUUID } from 'node:crypto';
import { Body, Get, Headers, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiHeader, ApiOperation } from '@nestjs/swagger';
import {
  CodedError,
  ErrorCodes,
  ListProxyInteractions,
  MEDIA_URL_RULE,
  MESSAGE_MEDIA_MAX,
  mediaUrlSchema,
  MessageReceived,
  MessageTextSeal,
  PrepareProxyMessage,
  interactionSidOf,
  segmentCount,
  characterCount,
  PROVIDER_TEXT_MAX,
  idempotencyKeyReused,
  idempotencyKeySpent,
  IDEMPOTENCY_KEY_HEADER,
  sameHolder,
} from '@maskline/contracts';
import { deriveKeyring, keyedDigest, type Keyring } from '@maskline/crypto';
import { EventPublisher, NumberRoutingCache, RpcClient } from '@maskline/messaging';
import { CurrentPrincipal, scopeOf, type Principal } from '../auth/principal';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { twilioDate } from './proxy-service.view';
import { twilioInteractionView } from './proxy-session.view';
import { ProxyMessageParamsDto } from './proxy-message-params.dto';
import { readTwilioPaging, twilioPage } from './twilio-page';
import { idempotencyKeyOf } from '../http/idempotency-key';
import { KEY_REUSES_MAX, ReplayGuard } from '../voice/replay-guard';

/** What keys the digests of a keyed message's content (derived from the call-context keyring). */
const API_MESSAGE_REQUEST_KEY_LABEL = 'maskline/api-message-request';

/**
 * Messages sent through the API to a participant, from its Session's proxy number (Twilio's
 * MessageInteractions). Taken as a durable event, as an inbound text is: the call router sends it
 * once through the number's provider, retried, and records it as an Interaction of the Session.
 */
@TwilioApiController('v1/Services/:service/Sessions/:session/Participants/:participant/MessageInteractions')
export class ProxyMessageInteractionsHttpController extends TwilioApiBase {
  private readonly seal: MessageTextSeal;
  private readonly requestKeys: Keyring;

  // The base's parameters first, in its order (its injection tokens are inherited by position).
  constructor(
    rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly numbers: NumberRoutingCache,
    private readonly events: EventPublisher,
    private readonly replay: ReplayGuard,
  ) {
    super(rpc, config);
    this.seal = new MessageTextSeal(config.CALL_CONTEXT_KEYS);
    this.requestKeys = deriveKeyring(config.CALL_CONTEXT_KEYS, API_MESSAGE_REQUEST_KEY_LABEL);
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Send a message to the participant from its proxy number' })
  @ApiHeader({
    name: IDEMPOTENCY_KEY_HEADER,
    required: false,
    description:
      'Repeated on a retry: the same message, sent once. The key is bound to what its first request said ' +
      `(Body, MediaUrls in order): reused for another message within 27 hours (by default), 422; after ${KEY_REUSES_MAX} ` +
      'such reuses (for different messages; one sent again counts once), 422 to every request with it',
  })
  async send(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) service: string,
    @Param('session', PROXY_REFS.session) session: string,
    @Param('participant', PROXY_REFS.participant) participant: string,
    @Body() body: ProxyMessageParamsDto,
    @Headers(IDEMPOTENCY_KEY_HEADER) idempotencyHeader?: string,
  ) {
    const idempotencyKey = idempotencyKeyOf(idempotencyHeader);
    // Given twice, or not text: refused, never dropped (the media would go out without it).
    if (body?.Body !== undefined && typeof body.Body !== 'string') {
      throw CodedError.validation('Body', 'Body must be given once, as text');
    }
    const text = body?.Body ?? '';
    const media = body?.MediaUrl === undefined ? [] : [body.MediaUrl].flat();
    if (!text && media.length === 0) throw CodedError.validation('Body', 'Body or MediaUrl is required');
    // The longest any provider sends (each number's provider is checked below).
    if (characterCount(text) > Math.max(...Object.values(PROVIDER_TEXT_MAX))) {
      throw CodedError.validation(
        'Body',
        `Body must be at most ${Math.max(...Object.values(PROVIDER_TEXT_MAX))} characters`,
      );
    }
    if (media.length > MESSAGE_MEDIA_MAX) {
      throw CodedError.validation('MediaUrl', `at most ${MESSAGE_MEDIA_MAX} MediaUrl values`);
    }
    for (const url of media) {
      if (!mediaUrlSchema.safeParse(url).success) {
        throw CodedError.validation('MediaUrl', `MediaUrl must be ${MEDIA_URL_RULE}`);
      }
    }
    const target = await this.rpc.request(PrepareProxyMessage, {
      scope: scopeOf(principal),
      service,
      session,
      participantSid: participant.slice(0, 64),
    });
    const number = await this.numbers.get(target.virtualNumber);
    // Its Session's owner's still: not another account's, nor moved to another of its account's holders.
    const subaccountId = scopeOf(principal).subaccountId ?? null;
    if (!number || number.accountId !== target.accountId || !sameHolder(number.subaccountId, subaccountId)) {
      throw CodedError.notFound(
        `the Session's proxy number ${target.virtualNumber} is no longer the account's`,
      );
    }
    if (characterCount(text) > PROVIDER_TEXT_MAX[number.provider]) {
      throw CodedError.validation(
        'Body',
        `Body must be at most ${PROVIDER_TEXT_MAX[number.provider]} characters (the number's provider takes no more)`,
      );
    }
    // With a key, a retry is the same message (its id, its claim, its event): never sent twice.
    const messageId = idempotencyKey
      ? apiMessageIdOf(target.accountId, target.sessionId, target.participantSid, idempotencyKey)
      : `api-${randomUUID()}`;
    if (idempotencyKey) await this.sameRequest(messageId, text, media as string[]);
    const binding = {
      provider: number.provider,
      providerMessageId: messageId,
      virtualNumber: target.virtualNumber,
    };
    const now = new Date().toISOString();
    try {
      await this.events.publish(
        MessageReceived,
        {
          provider: number.provider,
          providerMessageId: messageId,
          accountId: target.accountId,
          subaccountId,
          virtualNumber: target.virtualNumber,
          sender: target.virtualNumber,
          ...this.seal.sealContent(
            text,
            media.map((url) => ({ url: url as string, contentType: null })),
            binding,
          ),
          at: now,
          request: { sessionId: target.sessionId, to: target.to, direction: target.direction },
        },
        { msgId: `message-received:api:${target.virtualNumber}:${messageId}` },
      );
    } catch (err) {
      // The event may have been stored all the same (its acknowledgement lost): only a retry with the
      // same Idempotency-Key is sure to be this message, not a second one.
      const retry = idempotencyKey
        ? `retry with the same ${IDEMPOTENCY_KEY_HEADER}`
        : `it may have been taken: a retry may send it twice unless both carry one ${IDEMPOTENCY_KEY_HEADER}`;
      throw new CodedError(
        ErrorCodes.DEPENDENCY_UNAVAILABLE,
        `the message could not be confirmed taken; ${retry}`,
        {
          retryable: true,
          cause: err,
        },
      );
    }
    const sid = interactionSidOf(target.sessionId, messageId);
    const url = `${this.base}/v1/Services/${target.serviceSid}/Sessions/${target.sessionSid}/Participants/${target.participantSid}/MessageInteractions/${sid}`;
    return {
      sid,
      session_sid: target.sessionSid,
      service_sid: target.serviceSid,
      account_sid: this.accountSid(principal),
      // Maskline never keeps or repeats a message's text: its segment count.
      data: JSON.stringify({ segments: segmentCount(text) }),
      type: 'message',
      participant_sid: target.participantSid,
      inbound_participant_sid: null,
      inbound_resource_sid: null,
      inbound_resource_status: null,
      inbound_resource_type: null,
      inbound_resource_url: null,
      outbound_participant_sid: target.participantSid,
      outbound_resource_sid: null,
      outbound_resource_status: 'queued',
      outbound_resource_type: 'Message',
      outbound_resource_url: null,
      date_created: twilioDate(now),
      date_updated: twilioDate(now),
      url,
    };
  }

  /**
   * A keyed message's key stays bound to what its first request said (its text and media, as digests
   * keyed by the gateway's keyring, never in clear): a retry saying the same is the same message; the
   * key reused for another message is refused (422), not answered 201 with nothing sent, while the
   * webhook replay memory keeps it (`ReplayGuard.bindRequest`, which also caps the reuses: each 422
   * tells whether a guess of the text was right).
   */
  private async sameRequest(messageId: string, text: string, media: string[]): Promise<void> {
    const digests = this.requestKeys.entries.map((k) => keyedDigest(k.key, text, ...media));
    let bound: Awaited<ReturnType<ReplayGuard['bindRequest']>>;
    try {
      bound = await this.replay.bindRequest(`api-message:${messageId}`, digests);
    } catch (err) {
      throw new CodedError(
        ErrorCodes.DEPENDENCY_UNAVAILABLE,
        `the message could not be taken (this request sent nothing); retry with the same ${IDEMPOTENCY_KEY_HEADER}`,
        { retryable: true, cause: err },
      );
    }
    if (bound === 'other') throw idempotencyKeyReused('message (Body, MediaUrl)');
    if (bound === 'spent') throw idempotencyKeySpent('messages', KEY_REUSES_MAX);
  }

  @Get()
  @ApiOperation({ summary: 'List the messages sent to the participant through the API, newest first' })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) service: string,
    @Param('session', PROXY_REFS.session) session: string,
    @Param('participant', PROXY_REFS.participant) participant: string,
    @Query() query: Record<string, unknown>,
  ) {
    const paging = readTwilioPaging(query);
    const page = await this.sentTo(principal, service, session, participant, paging);
    return twilioPage(
      `${this.base}/v1/Services/${service}/Sessions/${session}/Participants/${participant}/MessageInteractions`,
      'interactions',
      page.interactions,
      { ...paging, more: page.more },
    );
  }

  @Get(':interaction')
  @ApiOperation({ summary: 'Fetch a message sent to the participant through the API' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('service', PROXY_REFS.service) service: string,
    @Param('session', PROXY_REFS.session) session: string,
    @Param('participant', PROXY_REFS.participant) participant: string,
    @Param('interaction', PROXY_REFS.interaction) sid: string,
  ) {
    const page = await this.sentTo(principal, service, session, participant, { page: 0, pageSize: 1 }, sid);
    if (page.interactions.length === 0) {
      throw CodedError.notFound(`MessageInteraction ${sid.slice(0, 64)} not found`);
    }
    return page.interactions[0];
  }

  private async sentTo(
    principal: Principal,
    service: string,
    session: string,
    participant: string,
    paging: { page: number; pageSize: number },
    sid?: string,
  ) {
    const page = await this.rpc.request(ListProxyInteractions, {
      scope: scopeOf(principal),
      service,
      session,
      ...paging,
      sentThroughApiTo: participant.slice(0, 64),
      ...(sid ? { sid: sid.slice(0, 64) } : {}),
    });
    const accountSid = this.accountSid(principal);
    return {
      more: page.more,
      interactions: page.interactions.map((i) => ({
        ...twilioInteractionView(i, accountSid, this.base),
        participant_sid: participant,
        url: `${this.base}/v1/Services/${i.serviceSid}/Sessions/${i.sessionSid}/Participants/${participant}/MessageInteractions/${i.sid}`,
      })),
    };
  }
}

/**
 * The id of a message sent through the API with an Idempotency-Key: `api-` and 32 hex digits of a
 * digest of the account, Session, participant and key. A retry names the same message; another
 * participant's, Session's or account's never does.
 */
function apiMessageIdOf(accountId: string, sessionId: string, participantSid: string, key: string): string {
  const digest = createHash('sha256').update(JSON.stringify([accountId, sessionId, participantSid, key]));
  return `api-${digest.digest('hex').slice(0, 32)}`;
}
