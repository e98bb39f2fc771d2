import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  CallErrorCodes,
  CodedError,
  GetNumberRouting,
  MessageFailed,
  MessageReceived,
  MessageRelayed,
  MessageTextSeal,
  e164Schema,
  type EventPayloadOf,
  type RoutingSession,
} from '@maskline/contracts';
import {
  DurableConsumer,
  EventPublisher,
  RetryLater,
  RpcClient,
  backoffWithJitter,
  type EventMeta,
  type EventOf,
} from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { CALL_ROUTER_CONFIG, type CallRouterConfig } from '../config/call-router.config';
import { SessionFinder } from '../routing/session-finder';
import { FallbackGate, MessageRelayClaims, type RelayOutcome } from './message-relay-claims';
import { PROVIDER_TEXT_MAX, characterCount, segmentCount } from './message-segments';
import { ProviderMessageSender, type SendOutcome } from './provider-message-sender';
import { decideRelay } from './relay-decision';

const EVENTS = [MessageReceived] as const;
/** A message another replica is sending is looked at again this soon (its claim says done, or lapses). */
const BUSY_RECHECK_MS = 500;
type Inbound = EventPayloadOf<typeof MessageReceived>;
type Relay = { session: RoutingSession; to: string; direction: 'first-to-second' | 'second-to-first' };

/**
 * Relays a party's text message to the other party of its session, from the virtual number,
 * through the number's provider; otherwise sends the number's fallback message back (at most once
 * per sender per interval), or nothing. Each inbound message is sent at most once across
 * redeliveries and replicas (a KV claim before the send), retried with backoff while the provider
 * is failing, and its outcome announced (MessageRelayed / MessageFailed), never with its text.
 */
@Injectable()
export class MessageRelayConsumer {
  private readonly seal: MessageTextSeal;
  private readonly outcomes;

  constructor(
    private readonly rpc: RpcClient,
    private readonly finder: SessionFinder,
    private readonly claims: MessageRelayClaims,
    private readonly fallbacks: FallbackGate,
    private readonly sender: ProviderMessageSender,
    private readonly events: EventPublisher,
    @Inject(CALL_ROUTER_CONFIG) private readonly config: CallRouterConfig,
    @Inject(CLOCK) private readonly now: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.seal = new MessageTextSeal(config.CALL_CONTEXT_KEYS);
    this.outcomes = metrics.counter('maskline_messages_total', 'Inbound messages by outcome', [
      'provider',
      'outcome',
    ]);
  }

  @DurableConsumer({
    durable: 'call-router-message-relay',
    events: EVENTS,
    concurrency: 64,
    // Attempts are counted against MESSAGE_RELAY_ATTEMPTS; the server never drops a message first.
    maxDeliver: 1000,
    ackWaitMs: 30_000,
    // Retries wait out their delay unacknowledged: a failing provider must not stall the others.
    maxAckPending: 'unlimited',
  })
  async onMessage({ payload: m }: EventOf<typeof EVENTS>, meta: EventMeta): Promise<void> {
    const number = await this.rpc.request(GetNumberRouting, { number: m.virtualNumber });
    if (number.accountId !== m.accountId || number.provider !== m.provider) {
      // The number changed hands (or provider) since the message was taken: not the new owner's.
      throw new CodedError(CallErrorCodes.FORBIDDEN, 'the number is no longer the one the message came to');
    }
    const text = this.open(m);
    const known = this.finder.knownSessionOfParty(m.virtualNumber, m.accountId, m.sender);
    const sessions = known ? [known] : await this.finder.onNumber(m.virtualNumber, m.accountId);
    const decision = e164Schema.safeParse(m.sender).success
      ? decideRelay(sessions, m.sender, this.now())
      : ({ kind: 'none', why: 'no-session' } as const);
    if (decision.kind === 'none') {
      await this.fallback(m, number, meta);
      this.outcomes.inc({ provider: m.provider, outcome: decision.why });
      return;
    }
    if (characterCount(text) > PROVIDER_TEXT_MAX[m.provider]) {
      await this.announce(m, decision, text, { event: 'failed', reason: 'too-long' });
      return;
    }
    if (!number.credentials) {
      await this.announce(m, decision, text, { event: 'failed', reason: 'no-credentials' });
      return;
    }
    const outcome = await this.sendOnce(m, meta, {
      accountId: m.accountId,
      provider: m.provider,
      credentials: number.credentials,
      from: m.virtualNumber,
      to: decision.to,
      text,
      mediaUrls: m.media.map((x) => x.url),
    });
    await this.announce(m, decision, text, outcome);
  }

  /** Sends once under the message's claim; the outcome, or a retry later while the provider fails. */
  private async sendOnce(
    m: Inbound,
    meta: EventMeta,
    message: Parameters<ProviderMessageSender['send']>[0],
  ): Promise<RelayOutcome> {
    const key = `${m.provider}|${m.virtualNumber}|${m.providerMessageId}`;
    const lease = this.config.OUTBOUND_TIMEOUT_MS * 2 + 5000;
    const claim = await this.claims.claim(key, lease, this.now());
    if (claim.kind === 'done') return claim.outcome;
    if (claim.kind === 'busy')
      throw new RetryLater(
        'another replica is sending this message',
        Math.min(claim.retryInMs, BUSY_RECHECK_MS),
      );
    let sent: SendOutcome;
    try {
      sent = await this.sender.send(message);
    } catch (err) {
      await this.claims.giveBack(key);
      throw err;
    }
    if (sent.kind === 'retry') {
      if (meta.deliveryCount < this.config.MESSAGE_RELAY_ATTEMPTS) {
        await this.claims.giveBack(key);
        const delay = sent.retryAfterMs ?? backoffWithJitter(meta.deliveryCount, 1000, 60_000);
        throw new RetryLater(`the provider did not take the message (${sent.reason})`, delay);
      }
      this.logger.warn(
        { provider: m.provider, messageId: m.providerMessageId, reason: sent.reason },
        'message not sent: the provider kept failing',
      );
    }
    const outcome: RelayOutcome =
      sent.kind === 'sent'
        ? { event: 'relayed', relayedMessageId: sent.providerMessageId }
        : { event: 'failed', reason: sent.kind === 'refused' ? 'provider-refused' : 'provider-unavailable' };
    await this.claims.done(key, outcome);
    return outcome;
  }

  /** The outcome, as an event (its id is the message's: announcing it again is the same event). */
  private async announce(
    m: Inbound,
    relay: Relay,
    text: string,
    outcome: RelayOutcome | { event: 'failed'; reason: 'too-long' | 'no-credentials' },
  ): Promise<void> {
    if (outcome.event === 'none') return;
    const base = {
      accountId: m.accountId,
      sessionId: relay.session.sessionId,
      virtualNumber: m.virtualNumber,
      provider: m.provider,
      messageId: m.providerMessageId,
      direction: relay.direction,
      from: m.sender,
      to: relay.to,
      length: characterCount(text),
      segments: segmentCount(text),
      mediaCount: m.media.length,
      at: new Date(this.now()).toISOString(),
      routing: relay.session,
    };
    const msgId = `message-outcome:${relay.session.sessionId}:${m.providerMessageId}`;
    if (outcome.event === 'relayed') {
      await this.events.publish(
        MessageRelayed,
        { ...base, relayedMessageId: outcome.relayedMessageId },
        { msgId },
      );
    } else {
      await this.events.publish(MessageFailed, { ...base, reason: outcome.reason }, { msgId });
    }
    this.outcomes.inc({
      provider: m.provider,
      outcome: outcome.event === 'relayed' ? 'relayed' : outcome.reason,
    });
  }

  /** Nothing relayed: the number's fallback message to the sender, if it has one and has not just sent it. */
  private async fallback(
    m: Inbound,
    number: { fallbackMessage: string | null; credentials: { accountId: string; authToken: string } | null },
    meta: EventMeta,
  ): Promise<void> {
    if (!number.fallbackMessage || !number.credentials || !e164Schema.safeParse(m.sender).success) return;
    const key = `${m.provider}|${m.virtualNumber}|${m.providerMessageId}`;
    const claim = await this.claims.claim(key, this.config.OUTBOUND_TIMEOUT_MS * 2 + 5000, this.now());
    if (claim.kind === 'done') return;
    if (claim.kind === 'busy')
      throw new RetryLater(
        'another replica is answering this message',
        Math.min(claim.retryInMs, BUSY_RECHECK_MS),
      );
    const intervalMs = this.config.MESSAGE_FALLBACK_INTERVAL_SECONDS * 1000;
    if (!(await this.fallbacks.mayAnswer(intervalMs, m.virtualNumber, m.sender, key))) {
      await this.claims.done(key, { event: 'none' });
      return;
    }
    const sent = await this.sender.send({
      accountId: m.accountId,
      provider: m.provider,
      credentials: number.credentials,
      from: m.virtualNumber,
      to: m.sender,
      text: number.fallbackMessage,
      mediaUrls: [],
    });
    if (sent.kind === 'retry' && meta.deliveryCount < this.config.MESSAGE_RELAY_ATTEMPTS) {
      await this.claims.giveBack(key);
      throw new RetryLater(
        `the provider did not take the fallback message (${sent.reason})`,
        sent.retryAfterMs ?? backoffWithJitter(meta.deliveryCount, 1000, 60_000),
      );
    }
    await this.claims.done(key, { event: 'none' });
    this.outcomes.inc({
      provider: m.provider,
      outcome: sent.kind === 'sent' ? 'fallback-sent' : 'fallback-failed',
    });
  }

  private open(m: Inbound): string {
    if (!this.seal.knows(m.text)) {
      // Sealed with a key this replica does not hold yet (keys being rotated): another replica, or this
      // one once it has the new keys, opens it. Never dropped for it.
      throw new RetryLater('the message text is sealed with a key this replica does not hold', 30_000);
    }
    try {
      return this.seal.open(m.text, {
        provider: m.provider,
        providerMessageId: m.providerMessageId,
        virtualNumber: m.virtualNumber,
      });
    } catch {
      throw new CodedError(CallErrorCodes.FORBIDDEN, 'the message text does not open with the current keys');
    }
  }
}
