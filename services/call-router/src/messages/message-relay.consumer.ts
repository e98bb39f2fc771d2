import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  PROVIDER_TEXT_MAX,
  characterCount,
  segmentCount,
  CallErrorCodes,
  CodedError,
  ErrorCodes,
  MessageFailed,
  GetNumberRouting,
  MessageReceived,
  MessageRelayed,
  MessageTextSeal,
  e164Schema,
  MESSAGE_FAILURE_REASONS,
  type EventPayloadInputOf,
  type MessageMedia,
  type EventPayloadOf,
  type RoutingSession,
  type TelephonyProvider,
  sameHolder,
} from '@maskline/contracts';
import {
  DurableConsumer,
  EventPublisher,
  EventRetention,
  RetryLater,
  type EventMeta,
  NumberRoutingCache,
  type NumberRouting,
  RpcClient,
  backoffWithJitter,
  type EventOf,
} from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { CALL_ROUTER_CONFIG, type CallRouterConfig } from '../config/call-router.config';
import { SessionFinder } from '../routing/session-finder';
import {
  FallbackGate,
  MESSAGE_RELAY_BUCKET,
  MessageRelayClaims,
  type Announcement,
  type ClaimResult,
  type RelayPlan,
} from './message-relay-claims';

import { RELAY_RETRY_MAX_MS, heldBackRetryMs } from './held-back-retry';
import { RELAY_CONCURRENCY } from './relay-slots';
import {
  ProviderMessageSender,
  holdInWords,
  type ProviderHold,
  type SendOutcome,
  type SendingAccount,
} from './provider-message-sender';
import { decideRelay, type RelayDecision } from './relay-decision';
import { ProxyInterceptor } from '../proxy/proxy-interceptor';
import type { OutsideContact } from '../proxy/proxy-out-of-session';
import { OutOfSessionTexts } from './out-of-session-texts';
import { TextedNumbers } from './texted-numbers';
import { WaitingRelays } from './waiting-relays';
import { HeldLookPacer } from './held-look-pacer';
import { twimlReply } from '../proxy/twiml-answer';

const EVENTS = [MessageReceived] as const;
/** Deliveries the server makes of one message; the handler settles it, failed if need be, on the one before. */
const MAX_DELIVER = 1000;
const LAST_DELIVERY = MAX_DELIVER - 1;
/**
 * The longest a text waits out its provider account: as long as its looks last at their longest
 * wait (RELAY_RETRY_MAX_MS each), about 17 hours, however its looks were paced (HeldLookPacer).
 */
export const HELD_LIFETIME_MS = LAST_DELIVERY * RELAY_RETRY_MAX_MS;
/**
 * The longest a paced look is put off (HeldLookPacer): a backlog past HELD_LOOKS_PER_SECOND times
 * this (120,000 texts of one account on a replica) is looked at more than that a second, each text
 * every ten minutes, where a longer wait would ask the stream to keep its event for hours unwatched.
 */
const PACED_WAIT_MAX_MS = 10 * RELAY_RETRY_MAX_MS;
/**
 * From which look a held-back text's waits are paced: its first ones (5–40 s with the defaults, until
 * they reach a minute) are its own while its provider account's hold is young (under LONG_HOLD_MS),
 * so a brief hold (a breaker's blip) is not put behind another provider account's backlog of the
 * same Maskline account.
 */
const PACED_FROM_LOOK = 4;
/**
 * A provider account held back this long (HeldBackSince) is not a blip: its texts are paced from
 * their first look. (Past the first backoff's base, 10 s with the defaults, each already waits half
 * to all of the hold's age: heldBackRetryMs.)
 */
const LONG_HOLD_MS = RELAY_RETRY_MAX_MS;
/** A message another replica is sending is looked at again this soon (its claim says done, or lapses). */
const BUSY_RECHECK_MS = 500;
/** A text left waiting reads its claim at least every this many looks, whatever its account's hold (heldStill). */
const READ_EVERY = 10;
type Inbound = EventPayloadOf<typeof MessageReceived>;
type Outcome =
  | { event: 'relayed'; relayedMessageId: string | null }
  | { event: 'failed'; reason: (typeof MESSAGE_FAILURE_REASONS)[number] };
/**
 * A message's claim as this look holds it: its sends so far, its plan, the revision that guards
 * giving it back, and whether its credentials were read afresh after the provider refused them
 * (`refreshed`: one such look a message, whichever its plan).
 */
type TakenClaim = Omit<Extract<ClaimResult, { kind: 'claimed' }>, 'kind'> & { refreshed: boolean };

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
  private readonly heldBack;
  private readonly parkedLooks;
  private readonly waiting = new WaitingRelays();

  constructor(
    private readonly numbers: NumberRoutingCache,
    private readonly rpc: RpcClient,
    private readonly finder: SessionFinder,
    private readonly claims: MessageRelayClaims,
    private readonly fallbacks: FallbackGate,
    private readonly sender: ProviderMessageSender,
    private readonly events: EventPublisher,
    private readonly interceptor: ProxyInterceptor,
    private readonly outOfSession: OutOfSessionTexts,
    private readonly texted: TextedNumbers,
    @Inject(CALL_ROUTER_CONFIG) private readonly config: CallRouterConfig,
    @Inject(CLOCK) private readonly now: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
    private readonly retention: EventRetention,
    private readonly pacer: HeldLookPacer,
  ) {
    this.seal = new MessageTextSeal(config.CALL_CONTEXT_KEYS);
    this.outcomes = metrics.counter('maskline_messages_total', 'Inbound messages by outcome', [
      'provider',
      'outcome',
    ]);
    this.parkedLooks = metrics.counter(
      'maskline_message_relays_parked_total',
      'First looks at a relay stored as waiting, not tried, because its provider account was held back or busy',
      ['provider', 'hold'],
    );
    this.heldBack = metrics.counter(
      'maskline_message_retries_held_back_total',
      'Message retries put off because their provider account is held back (breaker open, sends hanging) or busy (as many waiting for a turn as it may send at once)',
      ['provider', 'hold'],
    );
  }

  @DurableConsumer({
    durable: 'call-router-message-relay',
    events: EVENTS,
    oncePer: [MESSAGE_RELAY_BUCKET],
    // A provider account holds its sends (MESSAGE_SENDS_PER_PROVIDER_ACCOUNT) and its waits for a
    // turn (relay-slots.ts) of these, a quarter by default: two hanging at once leave half to the rest.
    concurrency: RELAY_CONCURRENCY,
    // The handler gives up before the server does (see LAST_DELIVERY), with an outcome announced.
    maxDeliver: MAX_DELIVER,
    ackWaitMs: 30_000,
    // Retries wait out their delay unacknowledged: a failing provider must not stall the others.
    maxAckPending: 'unlimited',
  })
  async onMessage({ payload: m }: EventOf<typeof EVENTS>, meta: EventMeta): Promise<void> {
    const key = `${m.provider}|${m.virtualNumber}|${m.providerMessageId}`;
    // Looked at again while its provider account is still held back or busy: put off once more
    // before any read (see heldStill).
    const held = meta.deliveryCount > 1 ? await this.heldStill(m, key, meta) : null;
    if (held) {
      this.heldBack.inc({ provider: m.provider, hold: held.hold });
      throw this.notSent(held.hold, meta, held.account);
    }
    // Dealt with before (a redelivery): at most its announcement is left to publish. A first
    // delivery skips the read (one KV round trip per message): its claim, below, finds whatever an
    // earlier copy of the event left, and the plan that copy made. But for one sent through the API:
    // a retry with its Idempotency-Key past the stream's duplicate window is a first delivery of
    // the same message, which must not be announced failed (its session ended since, its number
    // moved) when its first copy went.
    const prior = meta.deliveryCount > 1 || m.request ? await this.claims.peek(key) : undefined;
    if (prior?.state !== 'waiting') this.waiting.forget(key);
    if (prior?.state === 'done') return this.publish(key, prior.announce);

    // The provider refused the credentials the last look sent with: read afresh, and tried once more
    // (whatever the plan: a relay, a fallback, a Service's reply), never again (`send`).
    const refreshed = prior?.state === 'waiting' && prior.refresh === true;
    const number = await this.numberOf(m, refreshed).catch((err: unknown) => {
      // Said below for a message sent through the API, or one an earlier look made a plan for; a
      // text nothing was decided for is nobody's to relay (no session of the number's account now).
      const told = m.request || prior;
      if (!(told && err instanceof CodedError && err.code === CallErrorCodes.FORBIDDEN)) throw err;
      return null;
    });
    const text = this.open(m);
    const media = this.mediaOf(m);
    if (!number && prior) return this.released(m, key, prior.plan, { text, media });
    if (!number && m.request) {
      // Sent through the API, and its number is no longer its account's with that provider (released,
      // or moved): said so, once, as a failure, so the interaction its sender was given shows it.
      const failed = { event: 'failed', reason: 'number-released' } as const;
      return this.publish(key, this.announcementOf(m, m.request, { text, media }, failed));
    }
    if (!number)
      throw new CodedError(CallErrorCodes.FORBIDDEN, 'the number is no longer the one the message came to');
    // A relay refused now (its number's SMS turned off, say) is refused at once, not held.
    const refusedNow =
      prior?.state === 'waiting' && prior.plan.kind === 'relay' && !!refusalOf(m, number, text);
    const account = sendingAccountOf(m, number);
    const hold =
      prior?.state === 'waiting' && account && !refusedNow && !this.lastLook(meta)
        ? this.sender.holdOf(account)
        : null;
    if (hold && account) {
      // Its plan is stored and nothing is in flight: while the provider account is held back (its
      // breaker open, its sends hanging) or busy (its sends full, and as many waiting for a turn)
      // the message waits without touching its claim, not four writes a look. (Most such looks end
      // in heldStill, above, with no read at all; this one knows the account only once its claim
      // asked for its credentials read afresh.)
      this.heldBack.inc({ provider: m.provider, hold });
      if (prior?.state === 'waiting' && !prior.refresh) this.waiting.note(key);
      throw this.notSent(hold, meta, account);
    }
    // A plan an earlier attempt made stands (it may have sent); otherwise decide now.
    const decided = prior
      ? undefined
      : m.request
        ? await this.requested(m, m.request)
        : await this.decide(m, key, meta);
    const plan: RelayPlan | undefined = prior?.plan ?? decided?.plan;
    if (!plan && m.request && decided?.why === 'session-ended') {
      // Sent through the API and its session closed before it went: said so, once, as a failure.
      const pending = this.announcementOf(
        m,
        m.request,
        { text, media },
        { event: 'failed', reason: 'session-ended' },
      );
      return this.publish(key, pending);
    }
    if (!plan) {
      this.outcomes.inc({ provider: m.provider, outcome: decided?.why ?? 'no-session' });
      return; // nothing to relay and no fallback to send: nothing to remember either
    }
    const parked = prior ? null : await this.parked(m, key, meta, plan, number, text);
    if (parked) throw this.notSent(parked.hold, meta, parked.account);
    this.waiting.forget(key);
    const taken = await this.take(key, plan);
    if (!taken) return;
    const claim = { ...taken, refreshed };
    if (claim.plan.kind === 'fallback') return this.fallback(m, key, meta, claim);
    if (claim.plan.kind === 'reply') return this.reply(m, key, meta, { ...claim, plan: claim.plan });

    const relay = {
      ...claim.plan,
      routing: decided?.session?.sessionId === claim.plan.sessionId ? decided.session : undefined,
    };
    const announcement = (outcome: Outcome) => this.announcementOf(m, relay, { text, media }, outcome);
    // Refused before any send: recorded and announced (its event id makes a repeat the same event).
    const refusal = refusalOf(m, number, text);
    if (refusal || !number.credentials) {
      const pending = announcement({ event: 'failed', reason: refusal ?? 'no-credentials' });
      return this.publish(key, pending);
    }
    const sent = await this.send(key, claim, meta, {
      accountId: m.accountId,
      provider: m.provider,
      credentials: number.credentials,
      subaccountId: number.subaccountId,
      from: m.virtualNumber,
      to: claim.plan.to,
      text,
      mediaUrls: media.map((x) => x.url),
    });
    const pending = announcement(
      sent.kind === 'sent'
        ? { event: 'relayed', relayedMessageId: sent.providerMessageId }
        : { event: 'failed', reason: sent.kind === 'refused' ? 'provider-refused' : 'provider-unavailable' },
    );
    await this.publish(key, pending);
    if (sent.kind === 'sent') await this.noteSent(m.virtualNumber, claim.plan.to);
  }

  /**
   * A text the provider took, from one of Maskline's numbers: recorded (TextedNumbers) when it went
   * to a number Maskline serves, the only kind it can come back in from; a text to a phone, nearly
   * every one, writes nothing. Called after the claim says done: a send is never made twice for
   * want of this record.
   */
  private async noteSent(from: string, to: string): Promise<void> {
    if (this.finder.servesNumber(to)) await this.texted.recordAcceptedSend(from, to);
  }

  /**
   * The hold of a message looked at again (a redelivery) that this replica left stored as waiting
   * (WaitingRelays: its plan parked, or its claim given back for a retry) and whose provider
   * account, as this replica knows its number, would still not be tried (held back: breaker open,
   * sends hanging; busy), or null. Nothing is read: a message waiting out an account that stays
   * down is looked at again up to once a minute, and the account's parked backlog grows by its whole
   * inbound rate, so a claim read per look put a KV round trip per parked message per look on the
   * cores every other account's relay shares (bench:messages: by a 40 s run's end, two looks at the
   * never-answering account's texts for each new one, and its busiest windows). A message it did not leave
   * waiting reads its claim: a plan not yet made is decided, an outcome left to announce is
   * announced. Not at its last look, and not a relay refused now whatever the account does (too long,
   * no SMS, no credentials): both go the whole way. (A claim another replica took and finished since,
   * its outcome not yet announced, is seen at the next look that reads it: every READ_EVERY-th.)
   */
  private async heldStill(
    m: Inbound,
    key: string,
    meta: EventMeta,
  ): Promise<{ hold: ProviderHold; account: SendingAccount } | null> {
    if (!this.waiting.has(key) || this.lastLook(meta) || !this.seal.knows(m.text)) return null;
    // Every READ_EVERY-th look reads the claim all the same: another replica may have taken and
    // finished it since, an outcome left to announce (bounds that wait to ten looks: about ten
    // minutes, and up to PACED_WAIT_MAX_MS each for a large backlog's paced looks).
    if (meta.deliveryCount % READ_EVERY === 0) return null;
    const number = await this.numbers.get(m.virtualNumber);
    if (!number || !stillServes(number, m)) return null;
    const account = sendingAccountOf(m, number);
    const hold = account && this.sender.holdOf(account);
    if (!hold || !account) return null;
    let text: string;
    try {
      text = this.open(m);
    } catch {
      return null;
    }
    return refusalOf(m, number, text) ? null : { hold, account };
  }

  /** The retry of a message not tried because of its provider account's hold. */
  private notSent(hold: ProviderHold, meta: EventMeta, account: SendingAccount): RetryLater {
    return new RetryLater(
      `the provider account is ${holdInWords(hold)}; not sent`,
      this.heldWait(hold, meta, account),
    );
  }

  /**
   * How long a message its provider account's `hold` kept from being tried waits for its next look:
   * `heldBackRetryMs` (half to all of the time the account has been held back, HeldBackSince, once that
   * is past the first backoff's base); from its PACED_FROM_LOOK-th look on (from its first once the
   * account has been held back LONG_HOLD_MS), later while its Maskline account's held-back texts are
   * many (HeldLookPacer: HELD_LOOKS_PER_SECOND looks at them a second), but at most PACED_WAIT_MAX_MS,
   * never past HELD_LIFETIME_MS from its arrival (that look is its last, and says it failed), and not
   * at all unless the stream keeps its event that long (as `lastLook` reads it).
   */
  private heldWait(hold: ProviderHold, meta: EventMeta, account: SendingAccount): number {
    const heldFor = hold === 'held-back' ? this.sender.heldBackForMs(account) : 0;
    const wait = heldBackRetryMs(meta.deliveryCount, this.config, hold, { heldForMs: heldFor });
    if (hold !== 'held-back' || (meta.deliveryCount < PACED_FROM_LOOK && heldFor < LONG_HOLD_MS)) return wait;
    const now = this.now();
    const latest = Math.min(now + PACED_WAIT_MAX_MS, meta.publishedAt.getTime() + HELD_LIFETIME_MS);
    const kept = latest - now > wait && this.retention.keeps(meta.publishedAt, latest - now);
    return this.pacer.waitFor(account.accountId, wait, now, kept ? latest : now + wait);
  }

  /**
   * A first look at a relay its provider account would not even try now (held back: breaker open,
   * sends hanging; busy: sends full and as many waiting): its plan is stored as waiting, one KV write
   * where claiming and giving back are two, and it is looked at again as any such message is (the
   * hold, or null when it was not parked). Only a relay that would be sent: one to be refused (too
   * long, no SMS, no credentials) is refused now, not when the account is back.
   */
  private async parked(
    m: Inbound,
    key: string,
    meta: EventMeta,
    plan: RelayPlan,
    number: NumberRouting,
    text: string,
  ): Promise<{ hold: ProviderHold; account: SendingAccount } | null> {
    const account = sendingAccountOf(m, number);
    if (plan.kind !== 'relay' || !account || refusalOf(m, number, text)) return null;
    if (this.lastLook(meta)) return null;
    const hold = this.sender.holdOf(account);
    if (!hold || !(await this.claims.park(key, plan))) return null;
    this.waiting.note(key);
    this.parkedLooks.inc({ provider: m.provider, hold });
    return { hold, account };
  }

  /**
   * The message's claim, taken to act on it now under `plan` (or the plan an earlier look stored);
   * null when it was dealt with already (what it left to announce is published); another replica
   * acting on it: looked at again later.
   */
  private async take(
    key: string,
    plan: RelayPlan,
  ): Promise<Extract<ClaimResult, { kind: 'claimed' }> | null> {
    const claim = await this.claims.claim(key, this.leaseMs(), plan, this.now());
    if (claim.kind === 'done') {
      await this.publish(key, claim.announce);
      return null;
    }
    if (claim.kind === 'busy') {
      throw new RetryLater(
        'another replica is sending this message',
        Math.min(claim.retryInMs, BUSY_RECHECK_MS),
      );
    }
    return claim;
  }

  /**
   * A message an earlier look made a plan for (waiting for its provider account, or given back after
   * a send it did not take, or its holder gone), whose number is no longer its account's with that
   * provider (released, moved, switched to another provider while it waited): never sent now. A relay
   * is announced failed (`number-released`; `provider-unavailable` when a send was made before, which
   * may have gone), once, under its claim (taken first: a replica still
   * sending it tells its own outcome); an answer to its sender (a fallback, a Service's reply) is
   * dropped. Before, it was given up with its claim left waiting, and a relay was never announced.
   */
  private async released(
    m: Inbound,
    key: string,
    plan: RelayPlan,
    content: { text: string; media: MessageMedia[] },
  ): Promise<void> {
    this.waiting.forget(key);
    const claim = await this.take(key, plan);
    if (!claim) return;
    if (claim.plan.kind !== 'relay') {
      await this.claims.finish(key, null);
      throw new CodedError(CallErrorCodes.FORBIDDEN, 'the number is no longer the one the message came to');
    }
    // A send made before (timed out, or its holder gone) may have gone: failed as the provider's then.
    const failed = {
      event: 'failed',
      reason: claim.sends > 0 ? 'provider-unavailable' : 'number-released',
    } as const;
    return this.publish(key, this.announcementOf(m, claim.plan, content, failed));
  }

  /**
   * The number the message came to, as this replica knows it; read afresh when what it knows does
   * not match (a change it has not heard of yet) or the provider refused the credentials it knew
   * (`fresh`). Not the message's number any more (`stillServes`: another account, another of its
   * account's holders, another provider, none): nobody's to relay, ended. (Reading afresh on every redelivery put a store read on each retry of a
   * provider that is down: the relay of every other account waited behind them.)
   */
  private async numberOf(m: Inbound, fresh: boolean) {
    const matches = (n: NumberRouting | null): n is NumberRouting => !!n && stillServes(n, m);
    if (!fresh) {
      const known = await this.numbers.get(m.virtualNumber);
      if (matches(known)) return known;
    }
    let read: NumberRouting | null;
    try {
      read = await this.rpc.request(GetNumberRouting, { number: m.virtualNumber });
    } catch (err) {
      if (err instanceof CodedError && err.code === ErrorCodes.NOT_FOUND) read = null;
      else throw err;
    }
    if (!matches(read)) {
      throw new CodedError(CallErrorCodes.FORBIDDEN, 'the number is no longer the one the message came to');
    }
    return read;
  }

  /** A message sent through the API: to whom it says, while its session lives (it may have closed since). */
  private async requested(m: Inbound, request: NonNullable<Inbound['request']>) {
    const session = await this.finder.byId(request.sessionId, m.virtualNumber, m.accountId);
    if (!session) return { why: 'session-ended' };
    return { plan: requestedPlan(request), session };
  }

  /**
   * Who the message goes to: the other party of the sender's live session with masking on, or the
   * number's fallback message back to the sender (read afresh: an edit applies to the next
   * message), or nobody (`plan` undefined).
   */
  private async decide(
    m: Inbound,
    key: string,
    meta: EventMeta,
  ): Promise<{ plan?: RelayPlan; session?: RoutingSession; why?: string }> {
    // From one of Maskline's numbers in use (any account's, as the routing index knows) that
    // Maskline itself texted this number from lately (its provider took the send: TextedNumbers):
    // most likely Maskline's own text, and a relay or a fallback answering it would go back into
    // Maskline, where sessions naming each other's numbers pass one text round and round. Dropped,
    // answered with nothing. Any other text from a number in use goes on as anyone's: it may be a
    // person's phone another tenant added (without credentials, no provider is asked), or one its
    // account released at the provider since.
    if (this.finder.servesNumber(m.sender) && (await this.texted.textedLately(m.sender, m.virtualNumber))) {
      return { why: 'from-virtual-number' };
    }
    const decide = (sessions: RoutingSession[]) =>
      e164Schema.safeParse(m.sender).success
        ? decideRelay(sessions, m.sender, this.now())
        : ({ kind: 'none', why: 'no-session' } as const);
    const known = this.finder.knownSessionOfParty(m.virtualNumber, m.accountId, m.sender);
    // Before saying no: the index once it has applied every session event the stream holds (an
    // update that turned masking on or added the sender is announced before it is answered), the
    // store only when the index cannot say. Never a store read per text: a party of a session without
    // masking (the default) texting its number, at its account's inbound rate, would read every
    // session on the number each time, through the breaker every account's routing shares.
    const relays = (sessions: RoutingSession[]) => decide(sessions).kind !== 'none';
    const decision = decide(
      known && relays([known])
        ? [known]
        : await this.finder.onNumber(m.virtualNumber, m.accountId, { freshUnless: relays }),
    );
    // An auto-create an earlier delivery asked for and did not see made (read on redeliveries only).
    const pending = await this.outOfSession.pending(key, meta.deliveryCount);
    if (decision.kind === 'relay') {
      // Made after all: the sender is a party now.
      await this.outOfSession.settled(key, pending);
      return this.relayed(m, decision);
    }
    const fresh = await this.rpc.request(GetNumberRouting, { number: m.virtualNumber });
    // A stranger to a Proxy Service's number: its out-of-session callback may make them a Session,
    // which the text then goes through as any other (its mode and intercept apply).
    if (
      decision.why === 'no-session' &&
      fresh.proxyServiceSid &&
      stillServes(fresh, m) &&
      e164Schema.safeParse(m.sender).success
    ) {
      const contact: OutsideContact = {
        type: 'Message',
        resourceSid: m.providerMessageId,
        from: m.sender,
        number: m.virtualNumber,
        owner: {
          accountId: fresh.accountId,
          subaccountId: fresh.subaccountId,
          serviceSid: fresh.proxyServiceSid,
        },
      };
      const made = await this.outOfSession.ask(contact, key, pending);
      // Made; or refused when made again, perhaps by the Session an earlier try made after all
      // (its name or its pair taken): either way the sender may be a party now.
      if (made?.kind === 'session' || (made === null && pending)) {
        const now = decide(await this.finder.onNumber(m.virtualNumber, m.accountId, { fresh: true }));
        if (now.kind === 'relay') return this.relayed(m, now);
        if (made) return { why: now.why };
      }
      const reply = made?.kind === 'twiml' ? twimlReply(made.xml) : null;
      // The customer's reply to the sender: sealed in the plan (it rests in KV until sent).
      if (reply) return { plan: { kind: 'reply' as const, text: this.seal.seal(reply, bindingOf(m)) } };
    } else {
      // No longer a stranger to a Service's number (another owner, a Session ended meanwhile).
      await this.outOfSession.settled(key, pending);
    }
    const answers =
      stillServes(fresh, m) && !!fresh.fallbackMessage && !!fresh.credentials && fresh.smsEnabled;
    return answers && e164Schema.safeParse(m.sender).success
      ? { plan: { kind: 'fallback' }, why: decision.why }
      : { why: decision.why };
  }

  /** A relay decided: unless its Proxy Service's intercept blocks it (asked once: a claimed plan stands). */
  private async relayed(m: Inbound, decision: Extract<RelayDecision, { kind: 'relay' }>) {
    const { session, to, direction } = decision;
    if (!(await this.interceptor.allows(session, { type: 'Message', resourceSid: m.providerMessageId }))) {
      return { why: 'intercepted' };
    }
    return { plan: { kind: 'relay' as const, sessionId: session.sessionId, to, direction }, session };
  }

  /**
   * One send under the message's claim. When the provider does not take it and sends remain, the
   * claim is given back and the message retried later (Retry-After, else backoff); the last failure
   * is returned as it is.
   */
  private async send(
    key: string,
    claim: TakenClaim,
    meta: EventMeta,
    message: Parameters<ProviderMessageSender['send']>[0],
  ): Promise<SendOutcome> {
    let sent: SendOutcome;
    try {
      sent = await this.sender.send(message);
    } catch (err) {
      await this.claims.giveBack(key, { ...claim, sends: claim.sends + 1 });
      throw err;
    }
    const last = this.lastLook(meta);
    if (sent.kind === 'retry' && !sent.attempted && !last) {
      // Nothing went out (its breaker is open, its sends hang, or too many wait for a turn): no send
      // is counted. Asked again later and later (by its deliveries), so a provider account that
      // stays down costs little while its messages wait for it, until the last delivery says it failed.
      this.heldBack.inc({ provider: message.provider, hold: sent.hold });
      if (await this.claims.giveBack(key, claim)) this.waiting.note(key);
      throw new RetryLater(
        `the message was not sent (${sent.reason})`,
        this.heldWait(sent.hold, meta, message),
      );
    }
    const sends = claim.sends + (sent.kind === 'retry' && !sent.attempted ? 0 : 1);
    if (
      sent.kind === 'refused' &&
      (sent.status === 401 || sent.status === 403) &&
      !claim.refreshed &&
      !last
    ) {
      // Refused with the credentials this replica knew: maybe rotated since. Once more, read afresh.
      // Nothing went out, so no send is counted: `sends` says a send may have gone (`released`), and
      // the one look afresh is bounded by `refreshed`.
      await this.claims.giveBack(key, claim, { refresh: true });
      throw new RetryLater('the provider refused the credentials; reading them afresh', 500);
    }
    if (sent.kind === 'retry' && !last) {
      if (sends < this.config.MESSAGE_RELAY_ATTEMPTS) {
        if (await this.claims.giveBack(key, { ...claim, sends })) this.waiting.note(key);
        const delay = sent.retryAfterMs ?? backoffWithJitter(sends, 1000, RELAY_RETRY_MAX_MS);
        throw new RetryLater(`the provider did not take the message (${sent.reason})`, delay);
      }
    }
    if (sent.kind === 'retry') {
      this.logger.warn(
        { provider: message.provider, reason: sent.reason, sends },
        'message not sent: the provider kept failing',
      );
    }
    return sent;
  }

  /**
   * This delivery is the message's last look: its deliveries are spent, or the event stream, which
   * forgets its oldest events first when full, would no longer hold it when the next came (a message
   * waiting out a delay that the stream forgets is never delivered again, and nothing would be
   * announced). A last look that cannot send announces the message failed.
   */
  private lastLook(meta: EventMeta): boolean {
    return (
      meta.deliveryCount >= LAST_DELIVERY ||
      this.now() - meta.publishedAt.getTime() >= HELD_LIFETIME_MS ||
      !this.retention.keeps(meta.publishedAt, RELAY_RETRY_MAX_MS)
    );
  }

  /** The outcome event of a relay, ready to publish (never the text: its length and segments). */
  private announcementOf(
    m: Inbound,
    relay: {
      sessionId: string;
      to: string;
      direction: 'first-to-second' | 'second-to-first';
      routing?: RoutingSession;
    },
    content: { text: string; media: MessageMedia[] },
    outcome: Outcome,
  ): Announcement {
    const { text, media } = content;
    const payload = {
      accountId: m.accountId,
      sessionId: relay.sessionId,
      virtualNumber: m.virtualNumber,
      provider: m.provider,
      messageId: m.providerMessageId,
      direction: relay.direction,
      from: m.sender,
      to: relay.to,
      length: characterCount(text),
      segments: segmentCount(text),
      mediaCount: media.length,
      at: new Date(this.now()).toISOString(),
      ...(relay.routing ? { routing: relay.routing } : {}),
      ...(m.request ? { viaApi: true as const } : {}),
      ...(outcome.event === 'relayed'
        ? { relayedMessageId: outcome.relayedMessageId }
        : { reason: outcome.reason }),
    };
    return { event: outcome.event, payload };
  }

  /**
   * Publishes an outcome (its event id is the session's and the message's: publishing it again is
   * the same event), then records the message dealt with, nothing left to announce: one claim
   * write. When it cannot be published, the claim says dealt with and keeps the outcome, so that a
   * redelivery publishes it and never sends the message again. (Writing the outcome to the claim
   * first, then clearing it once published, cost a KV write per message.)
   */
  private async publish(key: string, announce: Announcement | null): Promise<void> {
    if (!announce) return;
    try {
      await this.publishOutcome(announce);
    } catch (err) {
      this.logger.warn({ err }, 'message outcome not published; kept in its claim for the redelivery');
      await this.claims.finish(key, announce);
      throw err;
    }
    await this.claims.announced(key);
  }

  private async publishOutcome(announce: Announcement): Promise<void> {
    const p = announce.payload as { sessionId: string; messageId: string; provider: TelephonyProvider };
    const msgId = `message-outcome:${p.sessionId}:${p.messageId}`;
    if (announce.event === 'relayed') {
      await this.events.publish(
        MessageRelayed,
        announce.payload as EventPayloadInputOf<typeof MessageRelayed>,
        {
          msgId,
        },
      );
      this.outcomes.inc({ provider: p.provider, outcome: 'relayed' });
    } else {
      const failed = announce.payload as EventPayloadInputOf<typeof MessageFailed>;
      await this.events.publish(MessageFailed, failed, { msgId });
      this.outcomes.inc({ provider: p.provider, outcome: failed.reason });
    }
  }

  /** The number's fallback message to the sender, unless the number answered this sender within the interval. */
  private async fallback(m: Inbound, key: string, meta: EventMeta, claim: TakenClaim): Promise<void> {
    if (!(await this.mayAnswer(m, key))) {
      await this.claims.finish(key, null);
      return;
    }
    // Read afresh: the text (and credentials) as they are now.
    const number = await this.rpc.request(GetNumberRouting, { number: m.virtualNumber });
    if (!number.fallbackMessage || !number.credentials || !number.smsEnabled || !stillServes(number, m)) {
      await this.claims.finish(key, null);
      return;
    }
    await this.answerSender(
      m,
      key,
      meta,
      claim,
      { credentials: number.credentials, subaccountId: number.subaccountId },
      number.fallbackMessage,
      'fallback',
    );
  }

  /**
   * A Proxy Service's TwiML reply (its out-of-session answer) to the sender, from the number: as
   * the fallback, unless the number answered this sender within the interval.
   */
  private async reply(
    m: Inbound,
    key: string,
    meta: EventMeta,
    claim: TakenClaim & { plan: Extract<RelayPlan, { kind: 'reply' }> },
  ): Promise<void> {
    if (!(await this.mayAnswer(m, key))) {
      await this.claims.finish(key, null);
      return;
    }
    const number = await this.numberOf(m, claim.refreshed);
    if (!number.credentials || !number.smsEnabled) {
      await this.claims.finish(key, null);
      return;
    }
    const text = this.seal.open(claim.plan.text, bindingOf(m));
    await this.answerSender(
      m,
      key,
      meta,
      claim,
      { credentials: number.credentials, subaccountId: number.subaccountId },
      text,
      'reply',
    );
  }

  /**
   * Whether the number may answer this sender on its own (its fallback, a Service's reply): at most
   * once within MESSAGE_FALLBACK_INTERVAL_SECONDS, whichever answered. Two numbers that answer (two
   * Maskline numbers with nobody in a session on them, or one and any auto-responder) answer each
   * other once an interval, never round and round.
   */
  private mayAnswer(m: Inbound, key: string): Promise<boolean> {
    const intervalMs = this.config.MESSAGE_FALLBACK_INTERVAL_SECONDS * 1000;
    return this.fallbacks.mayAnswer(intervalMs, m.virtualNumber, m.sender, key);
  }

  /** A text back to the sender from the number (the number's fallback, a Service's reply), once. */
  private async answerSender(
    m: Inbound,
    key: string,
    meta: EventMeta,
    claim: TakenClaim,
    number: { credentials: NonNullable<NumberRouting['credentials']>; subaccountId: string | null },
    text: string,
    what: 'fallback' | 'reply',
  ): Promise<void> {
    const sent = await this.send(key, claim, meta, {
      accountId: m.accountId,
      provider: m.provider,
      credentials: number.credentials,
      subaccountId: number.subaccountId,
      from: m.virtualNumber,
      to: m.sender,
      text,
      mediaUrls: [],
    });
    await this.claims.finish(key, null);
    if (sent.kind === 'sent') await this.noteSent(m.virtualNumber, m.sender);
    this.outcomes.inc({
      provider: m.provider,
      outcome: `${what}-${sent.kind === 'sent' ? 'sent' : 'failed'}`,
    });
  }

  /**
   * Longer than a send can take, with room to record it: a wait for a turn (at most half the
   * timeout), then the send (its timeout, and the breaker's second more).
   */
  private leaseMs(): number {
    return this.config.OUTBOUND_TIMEOUT_MS * 2 + 5000;
  }

  /**
   * The message's media: sealed with its text's key (`sealedMedia`), or in clear in an event published
   * before media were sealed. Opened only once its text opened, so the key is known.
   */
  private mediaOf(m: Inbound): MessageMedia[] {
    if (!m.sealedMedia) return m.media;
    try {
      return this.seal.openMedia(m.sealedMedia, bindingOf(m));
    } catch {
      throw new CodedError(CallErrorCodes.FORBIDDEN, 'the message media do not open with the current keys');
    }
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

/** A message sent through the API: to whom the request says, from the session's number. */
function requestedPlan(request: NonNullable<Inbound['request']>): RelayPlan {
  return { kind: 'relay', sessionId: request.sessionId, to: request.to, direction: request.direction };
}

/** The provider account the message's number sends through, or null when it has no credentials. */
function sendingAccountOf(m: Inbound, number: NumberRouting): SendingAccount | null {
  if (!number.credentials) return null;
  return {
    accountId: m.accountId,
    provider: m.provider,
    credentials: number.credentials,
    subaccountId: number.subaccountId,
  };
}

/** What a message's sealed texts are bound to: this message of this number at this provider. */
function bindingOf(m: Inbound) {
  return { provider: m.provider, providerMessageId: m.providerMessageId, virtualNumber: m.virtualNumber };
}

/** Why a relay is refused before any send (recorded and announced as failed), or undefined. */
function refusalOf(
  m: Inbound,
  number: NumberRouting,
  text: string,
): 'too-long' | 'sms-disabled' | 'no-credentials' | undefined {
  if (characterCount(text) > PROVIDER_TEXT_MAX[m.provider]) return 'too-long';
  if (!number.smsEnabled) return 'sms-disabled';
  return number.credentials ? undefined : 'no-credentials';
}

/**
 * Whether the number is still the one the message came to: its account's, with the same provider,
 * and the same holder's within the account (a subaccount, the main account) when the event says
 * whose it was. Moved to another, nothing of the message is sent on the new holder's credentials.
 */
function stillServes(n: Pick<NumberRouting, 'accountId' | 'provider' | 'subaccountId'>, m: Inbound): boolean {
  return (
    n.accountId === m.accountId &&
    n.provider === m.provider &&
    (m.subaccountId === undefined || sameHolder(n.subaccountId, m.subaccountId))
  );
}
