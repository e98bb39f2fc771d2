import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import pino from 'pino';
import {
  DEFAULT_SESSION_SETTINGS,
  GetNumberRouting,
  GetSessionsOnNumber,
  MessageReceived,
  MessageTextSeal,
  type EventPayloadOf,
  type RoutingSession,
  type RpcContract,
} from '@maskline/contracts';
import type {
  EventPublisher,
  EventRetention,
  NumberRouting,
  NumberRoutingCache,
  RpcClient,
} from '@maskline/messaging';
import { KeyValueStores, RetryLater } from '@maskline/messaging';
import { MetricsService } from '@maskline/observability';
import { startKitApp, startTestNats, testKeyring, type RunningProcess } from '@maskline/testing';
import { loadCallRouterConfig } from '../config/call-router.config';
import type { ProxyInterceptor } from '../proxy/proxy-interceptor';
import { RoutingIndex } from '../routing/routing-index';
import type { RoutingIndexFeeder } from '../routing/routing-index.feeder';
import { SessionFinder } from '../routing/session-finder';
import { FallbackGate, MessageRelayClaims } from './message-relay-claims';
import { HELD_LIFETIME_MS, MessageRelayConsumer } from './message-relay.consumer';
import { HeldLookPacer } from './held-look-pacer';
import type { OutOfSessionTexts } from './out-of-session-texts';
import type {
  OutboundMessage,
  ProviderHold,
  ProviderMessageSender,
  SendOutcome,
} from './provider-message-sender';
import type { TextedNumbers } from './texted-numbers';

const ACCOUNT = `MA${'C'.repeat(18)}`;
const NUMBER = '+14155550950';
const [FIRST, SECOND] = ['+16285551950', '+16285551951'];
/** The providers' APIs are never asked here (the sender is a stub): a closed port on loopback. */
const configOf = (natsUrl: string) =>
  loadCallRouterConfig({
    NATS_URL: natsUrl,
    CALL_CONTEXT_KEYS: testKeyring(),
    RECORDING_URL_KEYS: testKeyring(),
    PLIVO_API_BASE_URL: 'http://127.0.0.1:9',
    TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
  });

/** A live session of FIRST and SECOND on NUMBER, for an hour, with message masking on or off. */
const liveSession = (messageMasking: boolean): RoutingSession => ({
  sessionId: randomUUID(),
  accountId: ACCOUNT,
  subaccountId: null,
  virtualNumber: NUMBER,
  firstParty: FIRST,
  secondParty: SECOND,
  status: 'active',
  expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
  createdAt: new Date().toISOString(),
  settings: { ...DEFAULT_SESSION_SETTINGS, messageMasking },
});

/**
 * A relay consumer around a real KV (its claims and fallback gate) and stubs of the rest: a provider
 * that takes every send (recorded in `sends`), no Proxy intercept, no out-of-session texts.
 */
/** This replica's view: `session` on the number, and nothing else served here. */
const finderOf = (session: RoutingSession) =>
  ({
    servesNumber: () => false,
    knownSessionOfParty: () => session,
    onNumber: async () => [session],
  }) as unknown as SessionFinder;

/** The number, on Plivo with credentials, taking texts. */
const plivoNumber = () =>
  ({
    accountId: ACCOUNT,
    subaccountId: null,
    provider: 'plivo',
    credentials: { accountId: 'MAPROVIDER0000000000', authToken: 'token' },
    smsEnabled: true,
    fallbackMessage: null,
  }) as unknown as NumberRouting;

/** "at gate B" from the first party to the number, sealed as the gateway seals it. */
function textFromFirst(config: ReturnType<typeof configOf>) {
  const providerMessageId = randomUUID();
  const binding = { provider: 'plivo' as const, providerMessageId, virtualNumber: NUMBER };
  const payload: EventPayloadOf<typeof MessageReceived> = {
    ...binding,
    accountId: ACCOUNT,
    sender: FIRST,
    text: new MessageTextSeal(config.CALL_CONTEXT_KEYS).seal('at gate B', binding),
    media: [],
    at: new Date().toISOString(),
  };
  return { providerMessageId, payload };
}

/** What the sender answers while the provider account's breaker refuses: nothing went out. */
const BREAKER_REFUSED: SendOutcome = {
  kind: 'retry',
  reason: 'breaker open',
  retryAfterMs: null,
  attempted: false,
  hold: 'held-back',
};

/** One look a second per account, and an hour of the account's looks scheduled already. */
function pacerWithAnHourBooked(): HeldLookPacer {
  const pacer = new HeldLookPacer(1);
  const now = Date.now();
  for (let s = 0; s <= 3600; s++) pacer.waitFor(ACCOUNT, s * 1000, now);
  return pacer;
}

/** The wait a look that put its message off asked for. */
async function waitOf(look: Promise<void>): Promise<number> {
  const err = await look.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RetryLater);
  return (err as RetryLater).delayMs;
}

/** Delivers `payload` to the consumer `current()` gives, as the server's `deliveryCount`-th delivery of it. */
const deliveriesOf =
  (current: () => MessageRelayConsumer, payload: EventPayloadOf<typeof MessageReceived>) =>
  (deliveryCount: number, publishedAt = new Date()) =>
    current().onMessage(
      { subject: MessageReceived.subject, payload },
      {
        subject: MessageReceived.subject,
        streamSequence: 1,
        deliveryCount,
        publishedAt,
        storedAtMicros: publishedAt.getTime() * 1000,
      },
    );

function relayConsumer(
  kv: KeyValueStores,
  config: ReturnType<typeof configOf>,
  parts: {
    routing: NumberRouting;
    rpc: RpcClient;
    finder: SessionFinder;
    events: EventPublisher;
    claims?: MessageRelayClaims;
    /** The provider account: every send taken unless given (held back for no time unless said). */
    sender?: Pick<ProviderMessageSender, 'holdOf' | 'send'> &
      Partial<Pick<ProviderMessageSender, 'heldBackForMs'>>;
    /** Whether the event stream still holds the event at its next look (default: yes). */
    streamKeeps?: boolean;
    /** How long from now the event stream holds it (default: as long as asked). */
    streamKeepsMs?: { ms: number };
    /** The schedule of held-back looks (default: this replica's own). */
    pacer?: Pick<HeldLookPacer, 'waitFor'>;
  },
) {
  const sends: OutboundMessage[] = [];
  const consumer = new MessageRelayConsumer(
    { get: async () => parts.routing } as unknown as NumberRoutingCache,
    parts.rpc,
    parts.finder,
    parts.claims ?? new MessageRelayClaims(kv),
    new FallbackGate(kv),
    {
      heldBackForMs: () => 0,
      ...(parts.sender ?? {
        holdOf: () => null,
        send: async (m: OutboundMessage): Promise<SendOutcome> => {
          sends.push(m);
          return { kind: 'sent', providerMessageId: `MSG-${sends.length}` };
        },
      }),
    } as unknown as ProviderMessageSender,
    parts.events,
    { allows: async () => true } as unknown as ProxyInterceptor,
    { pending: async () => undefined, settled: async () => undefined } as unknown as OutOfSessionTexts,
    {
      recordAcceptedSend: async () => undefined,
      textedLately: async () => false,
    } as unknown as TextedNumbers,
    config,
    () => Date.now(),
    pino({ enabled: false }),
    new MetricsService('call-router'),
    {
      keeps: (_publishedAt: Date, delayMs: number) =>
        (parts.streamKeeps ?? true) && delayMs <= (parts.streamKeepsMs?.ms ?? Infinity),
    } as unknown as EventRetention,
    (parts.pacer ?? new HeldLookPacer()) as HeldLookPacer,
  );
  return { consumer, sends };
}

/**
 * A relay consumer on a number a test moves (`current.routing`, as this replica knows it and as it is
 * read afresh), with `session` on it (a MessageInteraction's found by id), and the outcomes it announces.
 */
function consumerOfMovingNumber(
  kv: KeyValueStores,
  config: ReturnType<typeof configOf>,
  current: { routing: NumberRouting },
  session: RoutingSession,
  claims: MessageRelayClaims | undefined,
  parts: { sender: NonNullable<Parameters<typeof relayConsumer>[2]['sender']> },
) {
  const outcomes: Array<{ subject: string; payload: Record<string, unknown> }> = [];
  const { consumer } = relayConsumer(kv, config, {
    get routing() {
      return current.routing;
    },
    rpc: { request: async () => current.routing } as unknown as RpcClient,
    finder: { ...finderOf(session), byId: async () => session } as unknown as SessionFinder,
    events: {
      publish: async (contract: { subject: string }, payload: Record<string, unknown>) =>
        void outcomes.push({ subject: contract.subject, payload }),
    } as unknown as EventPublisher,
    ...(claims ? { claims } : {}),
    sender: parts.sender,
  });
  return { consumer, outcomes };
}

describe('a relayed message whose outcome cannot be published (real NATS KV for its claim)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;

  beforeAll(async () => {
    nats = await startTestNats();
    app = await startKitApp(nats.url, [], 'call-router');
  });

  afterAll(async () => {
    await app?.close();
    await nats?.stop();
  });

  it('is sent once, its outcome kept in its claim, and announced by the redelivery, once', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const claims = new MessageRelayClaims(kv);
    const session = liveSession(true);
    const routing = plivoNumber();
    const published: Array<{ subject: string; msgId: string | undefined }> = [];
    let publishing: 'fails' | 'works' = 'fails';
    const { consumer, sends } = relayConsumer(kv, config, {
      routing,
      rpc: {} as RpcClient,
      finder: finderOf(session),
      claims,
      events: {
        publish: async (contract: { subject: string }, _payload: unknown, options?: { msgId?: string }) => {
          if (publishing === 'fails') throw new Error('JetStream did not answer');
          published.push({ subject: contract.subject, msgId: options?.msgId });
        },
      } as unknown as EventPublisher,
    });

    const { providerMessageId, payload } = textFromFirst(config);
    const deliver = deliveriesOf(() => consumer, payload);
    const key = `plivo|${NUMBER}|${providerMessageId}`;

    // Sent, and its outcome not published: the delivery fails (to be redelivered), the claim says
    // dealt with and keeps the outcome.
    await expect(deliver(1)).rejects.toThrow('JetStream did not answer');
    expect(sends.map((m) => [m.from, m.to, m.text])).toEqual([[NUMBER, SECOND, 'at gate B']]);
    expect(await claims.peek(key)).toMatchObject({ state: 'done', announce: { event: 'relayed' } });

    // The redelivery announces it, and sends nothing; the claim then keeps nothing of it.
    publishing = 'works';
    await deliver(2);
    const msgId = `message-outcome:${session.sessionId}:${providerMessageId}`;
    expect(published).toEqual([{ subject: 'events.message.relayed.v1', msgId }]);
    expect(await claims.peek(key)).toEqual({ state: 'done', announce: null });

    // Another redelivery: nothing more.
    await deliver(3);
    expect(sends).toHaveLength(1);
    expect(published).toHaveLength(1);
  });
  it('sends the media an event carries, sealed (as the gateway now publishes them) or in clear (events published before), and counts them in its outcome', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const media = [
      { url: 'https://media.maskline.test/a.jpg', contentType: 'image/jpeg' },
      { url: 'https://media.maskline.test/b.png', contentType: null },
    ];
    const outcomes: unknown[] = [];
    const { consumer, sends } = relayConsumer(kv, config, {
      routing: plivoNumber(),
      rpc: {} as RpcClient,
      finder: finderOf(liveSession(true)),
      claims: new MessageRelayClaims(kv),
      events: {
        publish: async (_contract: unknown, payload: unknown) => void outcomes.push(payload),
      } as unknown as EventPublisher,
    });
    const seal = new MessageTextSeal(config.CALL_CONTEXT_KEYS);
    const sealed = textFromFirst(config).payload;
    const binding = {
      provider: sealed.provider,
      providerMessageId: sealed.providerMessageId,
      virtualNumber: sealed.virtualNumber,
    };
    const asPublished = { ...sealed, ...seal.sealContent('at gate B', media, binding) };
    const inClear = { ...textFromFirst(config).payload, media };
    expect(JSON.stringify(asPublished)).not.toContain('media.maskline.test');
    for (const payload of [asPublished, inClear]) await deliveriesOf(() => consumer, payload)(1);
    expect(sends.map((m) => m.mediaUrls)).toEqual([media.map((m) => m.url), media.map((m) => m.url)]);
    expect(outcomes).toEqual([
      expect.objectContaining({ mediaCount: 2 }),
      expect.objectContaining({ mediaCount: 2 }),
    ]);
    // Sealed for another message: not opened, nothing sent.
    const stranger = textFromFirst(config).payload;
    const misbound = { ...stranger, sealedMedia: asPublished.sealedMedia };
    await expect(deliveriesOf(() => consumer, misbound)(1)).rejects.toThrow('media do not open');
    expect(sends).toHaveLength(2);
  });

  it('sent through the API after its number left the account: announced failed (number-released), once, nothing sent; an inbound text to it is not announced', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const session = liveSession(true);
    // The number is another account's now, in the cache and when read afresh.
    const moved = { ...plivoNumber(), accountId: 'MAOTHER0000000000000' } as NumberRouting;
    const outcomes: Array<{ subject: string; payload: Record<string, unknown> }> = [];
    const { consumer, sends } = relayConsumer(kv, config, {
      routing: moved,
      rpc: { request: async () => moved } as unknown as RpcClient,
      finder: finderOf(session),
      events: {
        publish: async (contract: { subject: string }, payload: Record<string, unknown>) =>
          void outcomes.push({ subject: contract.subject, payload }),
      } as unknown as EventPublisher,
    });
    const { payload } = textFromFirst(config);
    const viaApi = {
      ...payload,
      sender: NUMBER,
      request: { sessionId: session.sessionId, to: SECOND, direction: 'first-to-second' as const },
    };
    await deliveriesOf(() => consumer, viaApi)(1);
    await deliveriesOf(() => consumer, viaApi)(2);
    expect(sends).toEqual([]);
    expect(outcomes).toEqual([
      {
        subject: 'events.message.failed.v1',
        payload: expect.objectContaining({
          reason: 'number-released',
          sessionId: session.sessionId,
          viaApi: true,
        }),
      },
    ]);
    // A party's text to a number that is no longer its account's: nobody's to relay, nothing said.
    await expect(deliveriesOf(() => consumer, textFromFirst(config).payload)(1)).rejects.toThrow(
      'no longer the one the message came to',
    );
    expect(outcomes).toHaveLength(1);
  });

  it('sent through the API and relayed, then taken again as a first delivery (a retry with its Idempotency-Key past the duplicate window) after its session ended: neither sent nor announced again', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const session = liveSession(true);
    let live = true;
    const outcomes: string[] = [];
    const { consumer, sends } = relayConsumer(kv, config, {
      routing: plivoNumber(),
      rpc: { request: async () => plivoNumber() } as unknown as RpcClient,
      finder: {
        ...finderOf(session),
        byId: async () => (live ? session : undefined),
      } as unknown as SessionFinder,
      events: {
        publish: async (contract: { subject: string }) => void outcomes.push(contract.subject),
      } as unknown as EventPublisher,
    });
    const api = {
      ...textFromFirst(config).payload,
      sender: NUMBER,
      request: { sessionId: session.sessionId, to: SECOND, direction: 'first-to-second' as const },
    };
    await deliveriesOf(() => consumer, api)(1);
    expect([sends.length, outcomes]).toEqual([1, ['events.message.relayed.v1']]);
    live = false;
    await deliveriesOf(() => consumer, api)(1);
    expect([sends.length, outcomes]).toEqual([1, ['events.message.relayed.v1']]);
  });

  it('left waiting for its provider account, then its number switched provider or account: announced failed (number-released), once, nothing sent; one another replica is sending is left to it', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const claims = new MessageRelayClaims(kv);
    const session = liveSession(true);
    const current = { routing: plivoNumber() };
    const provider = { timingOut: false, refusing: false };
    const tried: OutboundMessage[] = [];
    const { consumer, outcomes } = consumerOfMovingNumber(kv, config, current, session, claims, {
      // Its provider account does not answer: its breaker is open, nothing goes out (or, `timingOut`,
      // a send goes out and times out).
      sender: {
        holdOf: () => (provider.timingOut || provider.refusing ? null : 'held-back'),
        send: async (m: OutboundMessage): Promise<SendOutcome> => {
          tried.push(m);
          if (provider.refusing) return { kind: 'refused', status: 401 };
          return provider.timingOut
            ? { kind: 'retry', reason: 'timeout', retryAfterMs: null, attempted: true }
            : BREAKER_REFUSED;
        },
      },
    });
    const released = (viaApi: boolean, reason = 'number-released') => ({
      subject: 'events.message.failed.v1',
      payload: expect.objectContaining({
        reason,
        sessionId: session.sessionId,
        to: SECOND,
        ...(viaApi ? { viaApi: true } : {}),
      }),
    });

    // A party's text, parked while the account is down; the tenant moves the number to Twilio.
    const text = deliveriesOf(() => consumer, textFromFirst(config).payload);
    await expect(text(1)).rejects.toBeInstanceOf(RetryLater);
    current.routing = { ...plivoNumber(), provider: 'twilio' } as NumberRouting;
    await text(2);
    expect(outcomes).toEqual([released(false)]);
    // Looked at again: dealt with, nothing more said or sent.
    await text(3);
    expect(outcomes).toHaveLength(1);

    // Sent through the API, parked; the number then goes to another account.
    current.routing = plivoNumber();
    const api = {
      ...textFromFirst(config).payload,
      sender: NUMBER,
      request: { sessionId: session.sessionId, to: SECOND, direction: 'first-to-second' as const },
    };
    const viaApi = deliveriesOf(() => consumer, api);
    await expect(viaApi(1)).rejects.toBeInstanceOf(RetryLater);
    current.routing = { ...plivoNumber(), accountId: 'MAOTHER0000000000000' } as NumberRouting;
    await viaApi(2);
    await viaApi(3);
    expect(outcomes).toEqual([released(false), released(true)]);

    // Another replica holds its claim and is sending it: its outcome is that replica's to tell.
    const busy = textFromFirst(config).payload;
    const plan = {
      kind: 'relay' as const,
      sessionId: session.sessionId,
      to: SECOND,
      direction: 'first-to-second' as const,
    };
    await claims.claim(`plivo|${NUMBER}|${busy.providerMessageId}`, 30_000, plan);
    await expect(deliveriesOf(() => consumer, busy)(2)).rejects.toBeInstanceOf(RetryLater);
    expect(outcomes).toHaveLength(2);
    expect(tried).toEqual([]);

    // A send went out and timed out (it may have gone), then the number moved: failed as the provider's.
    current.routing = plivoNumber();
    provider.timingOut = true;
    const timedOut = deliveriesOf(() => consumer, textFromFirst(config).payload);
    await expect(timedOut(1)).rejects.toBeInstanceOf(RetryLater);
    expect(tried).toHaveLength(1);
    current.routing = { ...plivoNumber(), provider: 'twilio' } as NumberRouting;
    await timedOut(2);
    expect(outcomes).toEqual([released(false), released(true), released(false, 'provider-unavailable')]);
    expect(tried).toHaveLength(1);

    // The provider refused the credentials (nothing went out; the claim waits to read them afresh),
    // then the number moved: failed as released, not as a send that may have gone.
    current.routing = plivoNumber();
    provider.timingOut = false;
    provider.refusing = true;
    const refused = deliveriesOf(() => consumer, textFromFirst(config).payload);
    await expect(refused(1)).rejects.toBeInstanceOf(RetryLater);
    expect(tried).toHaveLength(2);
    current.routing = { ...plivoNumber(), provider: 'twilio' } as NumberRouting;
    await refused(2);
    expect(outcomes).toEqual([
      released(false),
      released(true),
      released(false, 'provider-unavailable'),
      released(false),
    ]);
    expect(tried).toHaveLength(2);
  });

  it('left waiting, then its number moved to another of its account’s holders: announced failed (number-released), nothing sent on the new holder’s credentials; one the same holder still has goes', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const session = liveSession(true);
    const S1 = `SA${'1'.repeat(18)}`;
    const S2 = `SA${'2'.repeat(18)}`;
    const current = { routing: { ...plivoNumber(), subaccountId: S1 } as NumberRouting, held: true };
    const tried: OutboundMessage[] = [];
    const { consumer, outcomes } = consumerOfMovingNumber(kv, config, current, session, undefined, {
      sender: {
        holdOf: () => (current.held ? 'held-back' : null),
        send: async (m: OutboundMessage): Promise<SendOutcome> => {
          if (current.held) return BREAKER_REFUSED;
          tried.push(m);
          return { kind: 'sent', providerMessageId: `MSG-${tried.length}` };
        },
      },
    });
    const released = (viaApi: boolean) => ({
      subject: 'events.message.failed.v1',
      payload: expect.objectContaining({
        reason: 'number-released',
        ...(viaApi ? { viaApi: true } : {}),
      }),
    });

    // The first subaccount's party texts its number, and the text is parked (its provider account down).
    const text = deliveriesOf(() => consumer, { ...textFromFirst(config).payload, subaccountId: S1 });
    await expect(text(1)).rejects.toBeInstanceOf(RetryLater);
    // Its session's message sent through the API, parked too.
    const api = deliveriesOf(() => consumer, {
      ...textFromFirst(config).payload,
      subaccountId: S1,
      sender: NUMBER,
      request: { sessionId: session.sessionId, to: SECOND, direction: 'first-to-second' as const },
    });
    await expect(api(1)).rejects.toBeInstanceOf(RetryLater);
    // The main account moves the number to the sibling, on the same provider account, still down:
    // the texts are not left waiting for it, they are the former holder's and are told released.
    current.routing = { ...plivoNumber(), subaccountId: S2 } as NumberRouting;
    await text(2);
    await api(2);
    expect(outcomes).toEqual([released(false), released(true)]);
    // The account back, nothing of them is sent.
    current.held = false;
    await text(3);
    await api(3);
    expect(outcomes).toHaveLength(2);
    expect(tried).toEqual([]);

    // The sibling's own party's text goes as ever.
    outcomes.length = 0;
    await deliveriesOf(() => consumer, { ...textFromFirst(config).payload, subaccountId: S2 })(1);
    expect(tried.map((m) => m.to)).toEqual([SECOND]);
    expect(outcomes).toEqual([{ subject: 'events.message.relayed.v1', payload: expect.anything() }]);
  });

  it('a fallback the provider refused for its credentials is tried once more with them read afresh, then dropped: never retried for the rest of its deliveries', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const claims = new MessageRelayClaims(kv);
    const withToken = (authToken: string) =>
      ({
        ...plivoNumber(),
        fallbackMessage: 'This number is not in use',
        credentials: { accountId: 'MAPROVIDER0000000000', authToken },
      }) as NumberRouting;
    const current = { routing: withToken('token-before') };
    const tried: OutboundMessage[] = [];
    const { consumer } = relayConsumer(kv, config, {
      get routing() {
        return current.routing;
      },
      rpc: { request: async () => current.routing } as unknown as RpcClient,
      // Nobody's session: a stranger's text, answered with the number's fallback.
      finder: {
        servesNumber: () => false,
        knownSessionOfParty: () => undefined,
        onNumber: async () => [],
      } as unknown as SessionFinder,
      events: { publish: async () => undefined } as unknown as EventPublisher,
      claims,
      // The tenant rotated its token at the provider and not here: every send is refused with 401.
      sender: {
        holdOf: () => null,
        send: async (m: OutboundMessage): Promise<SendOutcome> => {
          tried.push(m);
          return { kind: 'refused', status: 401 };
        },
      },
    });
    const stranger = { ...textFromFirst(config).payload, sender: '+16285559999' };
    const deliver = deliveriesOf(() => consumer, stranger);
    await expect(deliver(1)).rejects.toBeInstanceOf(RetryLater);
    expect(tried.map((m) => [m.to, m.text])).toEqual([['+16285559999', 'This number is not in use']]);
    // The tenant sets the rotated token here too, too late: tried once more with the credentials read
    // afresh, refused again (its provider account says no), and dropped.
    current.routing = withToken('token-after');
    await deliver(2);
    expect(tried.map((m) => m.credentials.authToken)).toEqual(['token-before', 'token-after']);
    expect(await claims.peek(`plivo|${NUMBER}|${stranger.providerMessageId}`)).toEqual({
      state: 'done',
      announce: null,
    });
    // Its later deliveries send nothing.
    await deliver(3);
    await deliver(4);
    expect(tried).toHaveLength(2);
  });

  it('a relay the provider refused for its credentials at its last look is announced failed (provider-refused), not put off past it', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const session = liveSession(true);
    const outcomes: Array<{ subject: string; payload: Record<string, unknown> }> = [];
    let tried = 0;
    const { consumer } = relayConsumer(kv, config, {
      routing: plivoNumber(),
      rpc: { request: async () => plivoNumber() } as unknown as RpcClient,
      finder: finderOf(session),
      events: {
        publish: async (contract: { subject: string }, payload: Record<string, unknown>) =>
          void outcomes.push({ subject: contract.subject, payload }),
      } as unknown as EventPublisher,
      sender: {
        holdOf: () => null,
        send: async (): Promise<SendOutcome> => {
          tried += 1;
          return { kind: 'refused', status: 403 };
        },
      },
    });
    // Its lifetime is spent: this look is its last.
    const last = deliveriesOf(() => consumer, textFromFirst(config).payload);
    await last(1, new Date(Date.now() - HELD_LIFETIME_MS));
    expect(tried).toBe(1);
    expect(outcomes).toEqual([
      {
        subject: 'events.message.failed.v1',
        payload: expect.objectContaining({ reason: 'provider-refused', to: SECOND }),
      },
    ]);
  });

  it('held back for its provider account, is announced failed at the look after which the event stream would forget it, never left to vanish', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const session = liveSession(true);
    const routing = plivoNumber();
    const published: Array<{ subject: string; reason?: string }> = [];
    let streamKeeps = true;
    const tried: OutboundMessage[] = [];
    const make = () =>
      relayConsumer(kv, config, {
        routing,
        rpc: {} as RpcClient,
        finder: finderOf(session),
        events: {
          publish: async (contract: { subject: string }, p: { reason?: string }) =>
            void published.push({ subject: contract.subject, reason: p.reason }),
        } as unknown as EventPublisher,
        // Its provider account does not answer: its breaker is open, nothing goes out.
        sender: {
          holdOf: () => 'held-back',
          send: async (m: OutboundMessage): Promise<SendOutcome> => {
            tried.push(m);
            return BREAKER_REFUSED;
          },
        },
        streamKeeps,
      }).consumer;
    const { payload } = textFromFirst(config);
    const deliver = deliveriesOf(make, payload);

    // While the stream holds it past its next look: put off, nothing announced.
    await expect(deliver(1)).rejects.toBeInstanceOf(RetryLater);
    await expect(deliver(2)).rejects.toBeInstanceOf(RetryLater);
    expect(published).toEqual([]);
    // NATS full of newer events: this look is its last; it fails, said so, instead of a retry that never comes.
    streamKeeps = false;
    await deliver(3);
    expect(published).toEqual([{ subject: 'events.message.failed.v1', reason: 'provider-unavailable' }]);
    expect(tried.length).toBeLessThanOrEqual(1);
  });

  it('looked at again while its provider account stays held back, reads nothing and waits, but for every tenth look and its last', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const claims = new MessageRelayClaims(kv);
    const peeks = jest.spyOn(claims, 'peek');
    const { hold, sends, published, deliver } = switchableRelay(
      kv,
      config,
      finderOf(liveSession(true)),
      claims,
    );

    // First look: its plan stored as waiting.
    await expect(deliver(1)).rejects.toBeInstanceOf(RetryLater);
    // Looks while the account is held back or busy: put off, its claim not even read.
    await expect(deliver(2)).rejects.toBeInstanceOf(RetryLater);
    hold.now = 'busy';
    await expect(deliver(3)).rejects.toBeInstanceOf(RetryLater);
    expect(peeks).not.toHaveBeenCalled();
    // Every tenth look reads it all the same (another replica may have finished it), and waits on.
    hold.now = 'held-back';
    await expect(deliver(10)).rejects.toBeInstanceOf(RetryLater);
    expect(peeks).toHaveBeenCalledTimes(1);
    await expect(deliver(11)).rejects.toBeInstanceOf(RetryLater);
    expect(peeks).toHaveBeenCalledTimes(1);
    expect(sends).toEqual([]);
    // Its last look, the account still held back: it goes the whole way (here the provider takes
    // it; one whose breaker is open has it announced failed), sent once and announced.
    await deliver(999);
    expect(sends.map((m) => m.to)).toEqual([SECOND]);
    expect(published).toEqual(['events.message.relayed.v1']);
  });

  it('held back from its fourth look, waits as its account’s other held-back texts are paced, at most ten minutes, never past its lifetime nor what the stream keeps; busy, not paced', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const claims = new MessageRelayClaims(kv);
    const pacer = pacerWithAnHourBooked();
    const keeps = { ms: Infinity };
    const { hold, sends, published, deliver } = switchableRelay(
      kv,
      config,
      finderOf(liveSession(true)),
      claims,
      { pacer, streamKeepsMs: keeps, refusedWhileHeld: true },
    );

    // Its first three looks wait as they would (a breaker's blip is not put behind the backlog).
    for (const look of [1, 2, 3]) expect(await waitOf(deliver(look))).toBeLessThanOrEqual(60_000);
    expect(pacer.secondsKept(ACCOUNT)).toBe(3601);
    // From the fourth, paced: behind the account's hour of looks, but ten minutes at most.
    expect(await waitOf(deliver(4))).toBe(600_000);
    // Busy (its sends full, answered): its turn comes as they are answered, not paced.
    hold.now = 'busy';
    expect(await waitOf(deliver(5))).toBeLessThanOrEqual(5_000);
    // Held back, the stream keeping it five minutes only: its own wait (a minute at most).
    hold.now = 'held-back';
    keeps.ms = 300_000;
    expect(await waitOf(deliver(6))).toBeLessThanOrEqual(60_000);
    keeps.ms = Infinity;
    // Five minutes from the end of its lifetime (about 17 hours of looks): it waits those five minutes.
    const wait = await waitOf(deliver(7, new Date(Date.now() - (HELD_LIFETIME_MS - 300_000))));
    expect(wait).toBeGreaterThan(290_000);
    expect(wait).toBeLessThanOrEqual(300_000);
    expect(sends).toEqual([]);
    // Its lifetime over, its account still held back: its last look tries it and says it failed.
    await deliver(8, new Date(Date.now() - HELD_LIFETIME_MS - 1000));
    expect(published).toEqual(['events.message.failed.v1']);
  });

  it('meeting an account held back a while, waits half to all of that from its first look, and from a minute on is paced from it', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const pacer = pacerWithAnHourBooked();
    const { heldFor, sends, deliver } = switchableRelay(
      kv,
      config,
      finderOf(liveSession(true)),
      new MessageRelayClaims(kv),
      { pacer, refusedWhileHeld: true },
    );
    // Held back for 40 s: its first look waits 20–40 s (not 5–10 s), its own (maybe a blip still).
    heldFor.ms = 40_000;
    const first = await waitOf(deliver(1));
    expect(first).toBeGreaterThanOrEqual(20_000);
    expect(first).toBeLessThanOrEqual(40_000);
    // Held back a minute: not a blip; paced from here, behind the account's hour of looks.
    heldFor.ms = 60_000;
    expect(await waitOf(deliver(2))).toBe(600_000);
    expect(sends).toEqual([]);
  });

  it('a send its breaker refused (nothing went out) is paced from its fourth look as a parked one is', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const pacer = pacerWithAnHourBooked();
    // The account looks free until its send is refused: every look claims it and tries.
    const { hold, sends, deliver } = switchableRelay(
      kv,
      config,
      finderOf(liveSession(true)),
      new MessageRelayClaims(kv),
      { pacer, refusedWhileHeld: true, refusing: true },
    );
    hold.now = null;
    for (const look of [1, 2, 3]) expect(await waitOf(deliver(look))).toBeLessThanOrEqual(60_000);
    expect(await waitOf(deliver(4))).toBe(600_000);
    expect(sends).toHaveLength(4);
  });

  it('looked at again once its provider account is back: its stored plan is sent, once', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const { hold, sends, published, deliver } = switchableRelay(
      kv,
      config,
      finderOf(liveSession(true)),
      new MessageRelayClaims(kv),
    );
    await expect(deliver(1)).rejects.toBeInstanceOf(RetryLater);
    hold.now = null;
    await deliver(2);
    expect(sends.map((m) => m.to)).toEqual([SECOND]);
    expect(published).toEqual(['events.message.relayed.v1']);
    // A copy after that, held back again: announced already, nothing sent again.
    hold.now = 'held-back';
    await deliver(3);
    expect(sends).toHaveLength(1);
    expect(published).toHaveLength(1);
  });

  it('looked at again while held back, with no plan stored yet (its first look failed before deciding): decided and parked, and the plan then stands', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const claims = new MessageRelayClaims(kv);
    const parks = jest.spyOn(claims, 'park');
    const session = liveSession(true);
    let finding: 'fails' | 'live' | 'ended' = 'fails';
    const finder = {
      servesNumber: () => false,
      knownSessionOfParty: () => {
        if (finding === 'fails') throw new Error('the routing index did not answer');
        return finding === 'live' ? session : undefined;
      },
      onNumber: async () => (finding === 'live' ? [session] : []),
    } as unknown as SessionFinder;
    const { hold, sends, published, deliver } = switchableRelay(kv, config, finder, claims);

    await expect(deliver(1)).rejects.toThrow('the routing index did not answer');
    // Its account held back, but nothing decided yet: decided now, while the sender is a party.
    finding = 'live';
    await expect(deliver(2)).rejects.toBeInstanceOf(RetryLater);
    expect(parks).toHaveBeenCalledTimes(1);
    // The session ends while it waits; the account comes back: the plan made stands.
    finding = 'ended';
    hold.now = null;
    await deliver(3);
    expect(sends.map((m) => m.to)).toEqual([SECOND]);
    expect(published).toEqual(['events.message.relayed.v1']);
  });

  it('an outcome left to announce is announced by the next look even while its provider account is held back again', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const claims = new MessageRelayClaims(kv);
    let hold: 'held-back' | null = 'held-back';
    let publishing: 'fails' | 'works' = 'fails';
    const published: Array<{ subject: string; reason?: string }> = [];
    const { consumer } = relayConsumer(kv, config, {
      routing: plivoNumber(),
      rpc: {} as RpcClient,
      finder: finderOf(liveSession(true)),
      events: {
        publish: async (contract: { subject: string }, p: { reason?: string }) => {
          if (publishing === 'fails') throw new Error('JetStream did not answer');
          published.push({ subject: contract.subject, reason: p.reason });
        },
      } as unknown as EventPublisher,
      claims,
      sender: {
        holdOf: () => hold,
        // The provider refuses it for good.
        send: async (): Promise<SendOutcome> => ({ kind: 'refused', status: 400 }),
      },
    });
    const { payload } = textFromFirst(config);
    const deliver = deliveriesOf(() => consumer, payload);

    // Parked while held back; tried once the account is back: refused, and its failure not published.
    await expect(deliver(1)).rejects.toBeInstanceOf(RetryLater);
    hold = null;
    await expect(deliver(2)).rejects.toThrow('JetStream did not answer');
    // Held back again (another text's doing): the failure kept in its claim is announced all the same.
    hold = 'held-back';
    publishing = 'works';
    await deliver(3);
    expect(published).toEqual([{ subject: 'events.message.failed.v1', reason: 'provider-refused' }]);
  });

  it('left waiting by one replica and finished by another, its outcome not yet announced: announced by the first, its account held back', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const session = liveSession(true);
    let publishing: 'fails' | 'works' = 'fails';
    const published: string[] = [];
    const replica = (hold: { now: ProviderHold | null }) =>
      relayConsumer(kv, config, {
        routing: plivoNumber(),
        rpc: {} as RpcClient,
        finder: finderOf(session),
        events: {
          publish: async (contract: { subject: string }) => {
            if (publishing === 'fails') throw new Error('JetStream did not answer');
            published.push(contract.subject);
          },
        } as unknown as EventPublisher,
        sender: {
          holdOf: () => hold.now,
          send: async (): Promise<SendOutcome> => ({ kind: 'sent', providerMessageId: 'MSG-1' }),
        },
      }).consumer;
    const holdA: { now: ProviderHold | null } = { now: 'held-back' };
    const a = replica(holdA);
    const b = replica({ now: null });
    const { payload } = textFromFirst(config);
    const toA = deliveriesOf(() => a, payload);
    const toB = deliveriesOf(() => b, payload);

    // A parks it; B, whose breaker is closed, sends it and cannot publish its outcome.
    await expect(toA(1)).rejects.toBeInstanceOf(RetryLater);
    await expect(toB(2)).rejects.toThrow('JetStream did not answer');
    // A, its account answering a moment, reads it finished, and cannot publish either.
    holdA.now = null;
    await expect(toA(3)).rejects.toThrow('JetStream did not answer');
    // A's account held back again: the outcome is announced all the same.
    holdA.now = 'held-back';
    publishing = 'works';
    await toA(4);
    expect(published).toEqual(['events.message.relayed.v1']);
  });

  it('looked at again while held back, a relay refused now (its number no longer takes texts) is refused at once, not held', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    const routing = plivoNumber();
    const published: Array<{ subject: string; reason?: string }> = [];
    const { consumer } = relayConsumer(kv, config, {
      routing,
      rpc: {} as RpcClient,
      finder: finderOf(liveSession(true)),
      events: {
        publish: async (contract: { subject: string }, p: { reason?: string }) =>
          void published.push({ subject: contract.subject, reason: p.reason }),
      } as unknown as EventPublisher,
      sender: {
        holdOf: () => 'held-back',
        send: async (): Promise<SendOutcome> => {
          throw new Error('never sent');
        },
      },
    });
    const { payload } = textFromFirst(config);
    const deliver = deliveriesOf(() => consumer, payload);
    await expect(deliver(1)).rejects.toBeInstanceOf(RetryLater);
    (routing as { smsEnabled: boolean }).smsEnabled = false;
    await deliver(2);
    expect(published).toEqual([{ subject: 'events.message.failed.v1', reason: 'sms-disabled' }]);
  });

  it('reads no session from the store for a text from a party of a session without masking, however many it sends', async () => {
    const config = configOf(nats.url);
    const kv = app.get(KeyValueStores);
    // The session-service's word on every session on the number, counted: each read costs what the
    // number holds, and goes through the breaker every account's routing shares.
    const session = liveSession(false);
    const routing = {
      accountId: ACCOUNT,
      subaccountId: null,
      provider: 'plivo',
      status: 'active',
      credentials: { accountId: 'MAPROVIDER0000000000', authToken: 'token' },
      smsEnabled: true,
      fallbackMessage: null,
      proxyServiceSid: null,
      fallbackAnswerUrl: null,
      heldConfirmed: true,
    } as unknown as NumberRouting;
    const asked: string[] = [];
    const rpc = {
      request: async (contract: RpcContract) => {
        asked.push(contract.subject);
        if (contract.subject === GetSessionsOnNumber.subject) return { sessions: [session] };
        if (contract.subject === GetNumberRouting.subject) return routing;
        throw new Error(`not asked here: ${contract.subject}`);
      },
    } as unknown as RpcClient;
    const index = new RoutingIndex();
    index.upsert(session);
    index.ready = true;
    let caughtUpAsked = 0;
    const feeder = {
      caughtUp: async () => {
        caughtUpAsked++;
        return true;
      },
    } as unknown as RoutingIndexFeeder;
    const { consumer, sends } = relayConsumer(kv, config, {
      routing,
      rpc,
      finder: new SessionFinder(index, feeder, rpc, () => Date.now()),
      events: { publish: async () => undefined } as unknown as EventPublisher,
    });
    const seal = new MessageTextSeal(config.CALL_CONTEXT_KEYS);
    for (let i = 0; i < 20; i++) {
      const providerMessageId = randomUUID();
      const binding = { provider: 'plivo' as const, providerMessageId, virtualNumber: NUMBER };
      await consumer.onMessage(
        {
          subject: MessageReceived.subject,
          payload: {
            ...binding,
            accountId: ACCOUNT,
            sender: FIRST,
            text: seal.seal(`text ${i}`, binding),
            media: [],
            at: new Date().toISOString(),
          },
        },
        {
          subject: MessageReceived.subject,
          streamSequence: i + 1,
          deliveryCount: 1,
          publishedAt: new Date(),
          storedAtMicros: Date.now() * 1000,
        },
      );
    }
    // Masking is off: nothing relayed. The index answered each once caught up with the stream.
    expect(sends).toEqual([]);
    expect(caughtUpAsked).toBe(20);
    expect(asked.filter((s) => s === GetSessionsOnNumber.subject)).toEqual([]);
  });
});

/**
 * A text from the first party, to a relay whose provider account's hold the test sets (`hold.now`,
 * held back at first), taking every send it is asked (`sends`) and publishing outcomes (`published`).
 */
function switchableRelay(
  kv: KeyValueStores,
  config: ReturnType<typeof configOf>,
  finder: SessionFinder,
  claims: MessageRelayClaims,
  extra: Pick<Parameters<typeof relayConsumer>[2], 'pacer' | 'streamKeepsMs'> & {
    /** The provider sends nothing while the account is held back (its breaker refuses), or ever (`refusing`). */
    refusedWhileHeld?: boolean;
    refusing?: boolean;
  } = {},
) {
  const hold: { now: ProviderHold | null } = { now: 'held-back' };
  /** How long the provider account has been held back, as the sender says. */
  const heldFor = { ms: 0 };
  const sends: OutboundMessage[] = [];
  const published: string[] = [];
  const { consumer } = relayConsumer(kv, config, {
    routing: plivoNumber(),
    rpc: {} as RpcClient,
    finder,
    events: {
      publish: async (contract: { subject: string }) => void published.push(contract.subject),
    } as unknown as EventPublisher,
    claims,
    sender: {
      holdOf: () => hold.now,
      heldBackForMs: () => heldFor.ms,
      send: async (m: OutboundMessage): Promise<SendOutcome> => {
        sends.push(m);
        if (extra.refusing || (extra.refusedWhileHeld && hold.now === 'held-back')) {
          return BREAKER_REFUSED;
        }
        return { kind: 'sent', providerMessageId: 'MSG-1' };
      },
    },
    pacer: extra.pacer,
    streamKeepsMs: extra.streamKeepsMs,
  });
  const { payload } = textFromFirst(config);
  return { hold, heldFor, sends, published, deliver: deliveriesOf(() => consumer, payload) };
}
