import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  CallErrorCodes,
  CodedError,
  MessageFailed,
  GetNumberRouting,
  MessageReceived,
  MessageRelayed,
  MessageTextSeal,
  e164Schema,
  MESSAGE_FAILURE_REASONS,
  type EventPayloadInputOf,
  type EventPayloadOf,
  type RoutingSession,
  type TelephonyProvider,
} from '@maskline/contracts';
import {
  DurableConsumer,
  EventPublisher,
  RetryLater,
  type EventMeta,
  NumberRoutingCache,
  RpcClient,
  backoffWithJitter,
  type EventOf,
} from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { CALL_ROUTER_CONFIG, type CallRouterConfig } from '../config/call-router.config';
import { SessionFinder } from '../routing/session-finder';
import { FallbackGate, MessageRelayClaims, type Announcement } from './message-relay-claims';
import { PROVIDER_TEXT_MAX, characterCount, segmentCount } from './message-segments';
import { ProviderMessageSender, type SendOutcome } from './provider-message-sender';
import { decideRelay } from './relay-decision';

const EVENTS = [MessageReceived] as const;
/** A message another replica is sending is looked at again this soon (its claim says done, or lapses). */
const BUSY_RECHECK_MS = 500;
/** A message not sent because its provider account's breaker is open (or compartment full) first waits about this. */
const NOT_SENT_RETRY_MS = 2500;
type Inbound = EventPayloadOf<typeof MessageReceived>;
type Outcome =
  | { event: 'relayed'; relayedMessageId: string | null }
  | { event: 'failed'; reason: (typeof MESSAGE_FAILURE_REASONS)[number] };
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
    private readonly numbers: NumberRoutingCache,
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
    const key = `${m.provider}|${m.virtualNumber}|${m.providerMessageId}`;
    // Dealt with before (a redelivery): at most its announcement is left to publish.
    const prior = await this.claims.peek(key);
    if (prior?.state === 'done') return this.publish(key, prior.announce);

    // Per replica, forgotten on every change to the number (its owner, provider, credentials, fallback).
    const number = await this.numbers.get(m.virtualNumber);
    if (!number || number.accountId !== m.accountId || number.provider !== m.provider) {
      // The number changed hands (or provider) since the message was taken: not the new owner's.
      throw new CodedError(CallErrorCodes.FORBIDDEN, 'the number is no longer the one the message came to');
    }
    const text = this.open(m);
    const decide = (sessions: RoutingSession[]) =>
      e164Schema.safeParse(m.sender).success
        ? decideRelay(sessions, m.sender, this.now())
        : ({ kind: 'none', why: 'no-session' } as const);
    const known = this.finder.knownSessionOfParty(m.virtualNumber, m.accountId, m.sender);
    let decision = decide(known ? [known] : await this.finder.onNumber(m.virtualNumber, m.accountId));
    if (decision.kind === 'none') {
      // Before saying no: the store's word, in case this replica has not yet heard of an update
      // that turned masking on or added the sender (the rare path pays for the read, not the relay).
      decision = decide(await this.finder.onNumber(m.virtualNumber, m.accountId, { fresh: true }));
    }
    if (decision.kind === 'none') {
      // The fallback message is read afresh too: an edit applies to the next message.
      const fresh = await this.rpc.request(GetNumberRouting, { number: m.virtualNumber });
      await this.fallback(
        m,
        key,
        meta,
        fresh.accountId === m.accountId ? fresh : { fallbackMessage: null, credentials: null },
      );
      this.outcomes.inc({ provider: m.provider, outcome: decision.why });
      return;
    }
    const announcement = (outcome: Outcome) => this.announcementOf(m, decision, text, outcome);
    // Refused before any send: announced at once (its event id makes a repeat the same event).
    if (characterCount(text) > PROVIDER_TEXT_MAX[m.provider]) {
      return this.publish(null, announcement({ event: 'failed', reason: 'too-long' }));
    }
    if (!number.credentials) {
      return this.publish(null, announcement({ event: 'failed', reason: 'no-credentials' }));
    }
    const claim = await this.claims.claim(key, this.leaseMs(), this.now());
    if (claim.kind === 'done') return this.publish(key, claim.announce);
    if (claim.kind === 'busy') {
      throw new RetryLater(
        'another replica is sending this message',
        Math.min(claim.retryInMs, BUSY_RECHECK_MS),
      );
    }
    const sent = await this.send(key, claim.sends, meta, {
      accountId: m.accountId,
      provider: m.provider,
      credentials: number.credentials,
      from: m.virtualNumber,
      to: decision.to,
      text,
      mediaUrls: m.media.map((x) => x.url),
    });
    const pending = announcement(
      sent.kind === 'sent'
        ? { event: 'relayed', relayedMessageId: sent.providerMessageId }
        : { event: 'failed', reason: sent.kind === 'refused' ? 'provider-refused' : 'provider-unavailable' },
    );
    await this.claims.finish(key, pending);
    await this.publish(key, pending);
  }

  /**
   * One send under the message's claim. When the provider does not take it and sends remain, the
   * claim is given back and the message retried later (Retry-After, else backoff); the last failure
   * is returned as it is.
   */
  private async send(
    key: string,
    sendsBefore: number,
    meta: EventMeta,
    message: Parameters<ProviderMessageSender['send']>[0],
  ): Promise<SendOutcome> {
    let sent: SendOutcome;
    try {
      sent = await this.sender.send(message);
    } catch (err) {
      await this.claims.giveBack(key, sendsBefore + 1);
      throw err;
    }
    if (sent.kind === 'retry' && !sent.attempted) {
      // Nothing went out (its breaker is open, or its compartment full): no send is counted. Asked
      // again later and later (by its deliveries), so a provider account that stays down costs
      // little while its messages wait for it.
      await this.claims.giveBack(key, sendsBefore);
      throw new RetryLater(
        `the message was not sent (${sent.reason})`,
        backoffWithJitter(meta.deliveryCount, NOT_SENT_RETRY_MS, 60_000),
      );
    }
    const sends = sendsBefore + 1;
    if (sent.kind === 'retry') {
      if (sends < this.config.MESSAGE_RELAY_ATTEMPTS) {
        await this.claims.giveBack(key, sends);
        const delay = sent.retryAfterMs ?? backoffWithJitter(sends, 1000, 60_000);
        throw new RetryLater(`the provider did not take the message (${sent.reason})`, delay);
      }
      this.logger.warn(
        { provider: message.provider, reason: sent.reason, sends },
        'message not sent: the provider kept failing',
      );
    }
    return sent;
  }

  /** The outcome event of a relay, ready to publish (never the text: its length and segments). */
  private announcementOf(m: Inbound, relay: Relay, text: string, outcome: Outcome): Announcement {
    const payload = {
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
      ...(outcome.event === 'relayed'
        ? { relayedMessageId: outcome.relayedMessageId }
        : { reason: outcome.reason }),
    };
    return { event: outcome.event, payload };
  }

  /**
   * Publishes an outcome (its event id is the session's and the message's: publishing it again is
   * the same event), then drops it from the claim, if it came from one.
   */
  private async publish(key: string | null, announce: Announcement | null): Promise<void> {
    if (announce) {
      const p = announce.payload as { sessionId: string; messageId: string; provider: TelephonyProvider };
      const msgId = `message-outcome:${p.sessionId}:${p.messageId}`;
      if (announce.event === 'relayed') {
        await this.events.publish(
          MessageRelayed,
          announce.payload as EventPayloadInputOf<typeof MessageRelayed>,
          { msgId },
        );
        this.outcomes.inc({ provider: p.provider, outcome: 'relayed' });
      } else {
        const failed = announce.payload as EventPayloadInputOf<typeof MessageFailed>;
        await this.events.publish(MessageFailed, failed, { msgId });
        this.outcomes.inc({ provider: p.provider, outcome: failed.reason });
      }
    }
    if (key && announce) await this.claims.announced(key);
  }

  /** Nothing relayed: the number's fallback message to the sender, if it has one and has not just sent it. */
  private async fallback(
    m: Inbound,
    key: string,
    meta: EventMeta,
    number: { fallbackMessage: string | null; credentials: { accountId: string; authToken: string } | null },
  ): Promise<void> {
    if (!number.fallbackMessage || !number.credentials || !e164Schema.safeParse(m.sender).success) return;
    const claim = await this.claims.claim(key, this.leaseMs(), this.now());
    if (claim.kind === 'done') return;
    if (claim.kind === 'busy') {
      throw new RetryLater(
        'another replica is answering this message',
        Math.min(claim.retryInMs, BUSY_RECHECK_MS),
      );
    }
    const intervalMs = this.config.MESSAGE_FALLBACK_INTERVAL_SECONDS * 1000;
    if (!(await this.fallbacks.mayAnswer(intervalMs, m.virtualNumber, m.sender, key))) {
      await this.claims.finish(key, null);
      return;
    }
    const sent = await this.send(key, claim.sends, meta, {
      accountId: m.accountId,
      provider: m.provider,
      credentials: number.credentials,
      from: m.virtualNumber,
      to: m.sender,
      text: number.fallbackMessage,
      mediaUrls: [],
    });
    await this.claims.finish(key, null);
    this.outcomes.inc({
      provider: m.provider,
      outcome: sent.kind === 'sent' ? 'fallback-sent' : 'fallback-failed',
    });
  }

  /** Longer than a send can take (its timeout, twice) with room to record it. */
  private leaseMs(): number {
    return this.config.OUTBOUND_TIMEOUT_MS * 2 + 5000;
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
