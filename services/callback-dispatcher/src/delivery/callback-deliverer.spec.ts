import pino, { type Logger } from 'pino';
import { RecordingUrlSeal, type InteractionEnd } from '@maskline/contracts';
import { parseKeyring } from '@maskline/crypto';
import { testKeyring } from '@maskline/testing';
import { RetryLater, type EventRetention, type StoredInteractions } from '@maskline/messaging';
import type { MetricsService } from '@maskline/observability';
import { Bulkheads } from '@maskline/resilience';
import type { CallbackDispatcherConfig } from '../config/callback-dispatcher.config';
import { RecordingUrlOpener } from '../events/recording-url-opener';
import type { SealedRecordingUrl } from '../events/plivo-callback';
import type { CallbackAttempts } from '../records/callback-attempts.repository';
import type { DeadLetters } from '../records/dead-letters.repository';
import { CallbackAttempt, type AttemptRequest, type AttemptResult } from './callback-attempt';
import { CallbackDeliverer, type DeliveryJob } from './callback-deliverer';
import type { CallbackHostSlots } from './callback-host-slots';
import type { CallbackTarget, CallbackTargets } from './callback-targets';
import type { Delivered, DeliveryLedger } from './delivery-ledger';
import { FORGOTTEN_BEFORE_RETRY, LOST_BEFORE_RETRY, PUT_OFF_TOO_OFTEN } from './delivery-state-machine';
import type { LostRetryWatch, WatchEntry, WatchedRetry } from './lost-retry-watch';
import { StoredInteractionGate } from './stored-interaction-gate';

const ACCOUNT = 'MA000000000000000001';
const SESSION = '00000000-0000-4000-8000-000000000001';
const PUBLIC = 'http://93.184.216.34/hooks/maskline';
const T0 = Date.parse('2026-11-28T10:00:00Z');
/** The keyring recording URLs are sealed with (RECORDING_URL_KEYS). */
const RECORDING_KEYS = parseKeyring(testKeyring('rec1'));

const target = (over: Partial<CallbackTarget> = {}): CallbackTarget => ({
  subaccountId: null,
  callbackUrl: PUBLIC,
  callbackMethod: 'POST',
  recordingCallbackUrl: null,
  recordingCallbackMethod: 'POST',
  firstParty: '+16285550001',
  secondParty: '+16285550002',
  virtualNumber: '+14155550100',
  proxyServiceSid: null,
  ...over,
});

const job = (over: Partial<DeliveryJob> = {}): DeliveryJob => ({
  eventId: 'evt-7',
  callback: {
    accountId: ACCOUNT,
    sessionId: SESSION,
    target: 'session',
    eventName: 'SessionTimeout',
    params: { EventName: 'SessionTimeout', SessionUUID: SESSION },
  },
  sequence: 7,
  publishedAt: new Date(T0),
  streamSequence: 7,
  attemptKey: 'evt-7',
  ...over,
});

/** The deliverer with every port automocked and an injected clock. */
function deliverer(world: {
  target?: CallbackTarget | undefined;
  made?: number;
  delivered?: boolean;
  answers?: AttemptResult[];
  /** The store refuses this many attempt records first. */
  recordFailures?: number;
  now?: number;
  /** Whether session-service has marked interaction ends stored (default: yes). */
  stored?: boolean;
  /** How long past its publishing the event stream still holds an event (default: for ever). */
  streamHoldsMs?: number;
  /** CALLBACK_RETRY_SCHEDULE_SECONDS (default 30, 120). */
  schedule?: number[];
  /** Writing down a callback put off fails (NATS unavailable). */
  watchFails?: boolean;
  /** Looking a watch up fails (NATS unavailable). */
  lookupFails?: boolean;
  /** Events whose callbacks have a dead letter already. */
  lettered?: string[];
  /** The account has taken its share of the watch bucket: new watches are not written. */
  shareTaken?: boolean;
  /** Callbacks put off before, as written down, by their event's position on the stream. */
  watches?: Record<number, WatchedRetry>;
  /** CALLBACK_PER_ACCOUNT_CONCURRENCY (default 16). */
  perAccount?: number;
  /** Each session's target (its owner's subaccount, say), in place of `target`. */
  targetOfSession?: (sessionId: string) => CallbackTarget;
  /** Sends, and attempt records, wait for these (held until the test lets them go). */
  holdSends?: Promise<void>;
  holdRecords?: Promise<void>;
}) {
  const attemptsSent: AttemptRequest[] = [];
  const recorded: Array<Record<string, unknown>> = [];
  const dead: Array<Record<string, unknown>> = [];
  const watched: Array<{ streamSequence: number; retry: WatchedRetry }> = [];
  /** Watches there now, with their revisions; and those removed (by position). */
  let revision = 0;
  const watches = new Map<number, WatchEntry>(
    Object.entries(world.watches ?? {}).map(([seq, retry]) => [
      Number(seq),
      { streamSequence: Number(seq), revision: ++revision, retry },
    ]),
  );
  const unwatched: number[] = [];
  const looked: number[] = [];
  // Per event (the default job's is `evt-7`).
  type State = { made: number; delivered: boolean; record?: Delivered };
  const states = new Map<string, State>([
    ['evt-7', { made: world.made ?? 0, delivered: world.delivered ?? false }],
  ]);
  const stateOf = (key: string): State => {
    if (!states.has(key)) states.set(key, { made: 0, delivered: false });
    return states.get(key) as State;
  };
  const state = stateOf('evt-7');
  let recordFailures = world.recordFailures ?? 0;
  const ledger = {
    get made(): number {
      return state.made;
    },
    get isMarked(): boolean {
      return state.delivered;
    },
    get marker(): Delivered | undefined {
      return state.record;
    },
    delivered: jest.fn(async (e: string): Promise<Delivered | null> => {
      const st = stateOf(e);
      return st.delivered ? (st.record ?? { at: 0 }) : null;
    }),
    markDelivered: jest.fn(async (e: string, d: Delivered): Promise<void> => {
      stateOf(e).delivered = true;
      stateOf(e).record = d;
    }),
    attemptsMade: jest.fn(async (k: string): Promise<number> => stateOf(k).made),
    setAttemptsMade: jest.fn(async (k: string, n: number): Promise<void> => void (stateOf(k).made = n)),
  };
  const answers = [
    ...(world.answers ?? [{ kind: 'response', statusCode: 200, latencyMs: 5 } as AttemptResult]),
  ];
  const attempts = {
    breakerOf: (account: string, subaccount: string | null, url: string) => ({
      family: 'host',
      key: `${account}/${subaccount ?? ''}:${new URL(url).host}`,
    }),
    send: jest.fn(async (r: AttemptRequest) => {
      attemptsSent.push(r);
      await world.holdSends;
      return (answers.shift() ?? { kind: 'response', statusCode: 200, latencyMs: 5 }) as AttemptResult;
    }),
  } as unknown as CallbackAttempt;
  const attemptRecords = {
    record: jest.fn(async (a: Record<string, unknown>, id?: string) => {
      await world.holdRecords;
      if (recordFailures > 0) {
        recordFailures--;
        throw new Error('the store is unavailable');
      }
      // Under an id, once: the store's unique _id.
      if (id && recorded.some((r) => r._id === id)) return;
      recorded.push(id ? { ...a, _id: id } : a);
    }),
  } as unknown as CallbackAttempts;
  const deadLetters = {
    record: jest.fn(async (d: Record<string, unknown>) => void dead.push(d)),
    // A letter there already stands (the store's rule is int-tested): the world's `lettered` ids.
    recordLost: jest.fn(async (d: Record<string, unknown>) => {
      if (world.lettered?.includes(d._id as string)) return false;
      dead.push(d);
      return true;
    }),
  } as unknown as DeadLetters;
  const targets = {
    get: jest.fn(async (_account: string, sessionId: string) =>
      world.targetOfSession ? world.targetOfSession(sessionId) : 'target' in world ? world.target : target(),
    ),
  } as unknown as CallbackTargets;
  const config = {
    CALLBACK_HOST_ALLOWLIST: [],
    DNS_SERVERS: ['127.0.0.1:9'],
    CALLBACK_PER_ACCOUNT_CONCURRENCY: world.perAccount ?? 16,
    CALLBACK_PER_HOST_CONCURRENCY: 8,
    CALLBACK_RETRY_SCHEDULE_SECONDS: world.schedule ?? [30, 120],
    CALLBACK_MAX_AGE_SECONDS: 86400,
    HOST_BREAKER_RESET_MS: 30_000,
  } as unknown as CallbackDispatcherConfig;
  const asked: InteractionEnd[] = [];
  const marks = {
    isStored: async (end: InteractionEnd) => (asked.push(end), world.stored ?? true),
  } as unknown as StoredInteractions;
  /** Counters by name (their labels summed). */
  const counted = new Map<string, number>();
  const metrics = {
    counter: (name: string) => ({
      inc: (_l?: unknown) => void counted.set(name, (counted.get(name) ?? 0) + 1),
    }),
    histogram: () => ({ observe: () => undefined }),
  } as unknown as MetricsService;
  const logged: string[] = [];
  const d = new CallbackDeliverer(
    targets,
    ledger as unknown as DeliveryLedger,
    attempts,
    attemptRecords,
    deadLetters,
    config,
    () => world.now ?? T0 + 1000,
    { warn: () => undefined } as unknown as Logger,
    metrics,
    // The cap across replicas is KV's (int-tested in libs/messaging); here one process's.
    new Bulkheads(config.CALLBACK_PER_HOST_CONCURRENCY) as unknown as CallbackHostSlots,
    new StoredInteractionGate(marks, { warn: () => undefined } as unknown as Logger, metrics),
    {
      keeps: (publishedAt: Date, delayMs: number) =>
        (world.now ?? T0 + 1000) + delayMs - publishedAt.getTime() <= (world.streamHoldsMs ?? Infinity),
    } as unknown as EventRetention,
    {
      watch: jest.fn(async (streamSequence: number, retry: WatchedRetry, replacing: WatchEntry | null) => {
        if (world.watchFails) throw new Error('NATS is unavailable');
        if (world.shareTaken && !replacing) return false;
        watched.push({ streamSequence, retry });
        watches.set(streamSequence, { streamSequence, revision: ++revision, retry });
        return true;
      }),
      of: jest.fn(async (streamSequence: number) => {
        looked.push(streamSequence);
        if (world.lookupFails) throw new Error('NATS is unavailable');
        return watches.get(streamSequence) ?? null;
      }),
      forget: jest.fn(async (entries: WatchEntry[]) => {
        for (const e of entries) {
          if (watches.get(e.streamSequence)?.revision !== e.revision) continue;
          watches.delete(e.streamSequence);
          unwatched.push(e.streamSequence);
        }
      }),
    } as unknown as LostRetryWatch,
    new RecordingUrlOpener(
      { RECORDING_URL_KEYS: RECORDING_KEYS },
      pino({ level: 'info' }, { write: (line: string) => void logged.push(line) }),
    ),
  );
  return {
    d,
    ledger,
    attemptsSent,
    recorded,
    dead,
    asked,
    watched,
    watches,
    unwatched,
    looked,
    counted,
    logged,
  };
}

describe('delivering a callback', () => {
  it('sends it, signed for its account, to the address checked, and marks it delivered', async () => {
    const { d, attemptsSent, recorded, ledger } = deliverer({});
    await d.deliver(job());
    expect(attemptsSent).toEqual([
      expect.objectContaining({
        accountId: ACCOUNT,
        eventId: 'evt-7',
        url: PUBLIC,
        method: 'POST',
        address: '93.184.216.34',
        params: expect.objectContaining({ SequenceNumber: '7', VirtualNumber: '14155550100' }),
      }),
    ]);
    expect(recorded).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'delivered', statusCode: 200 }),
    ]);
    expect(ledger.isMarked).toBe(true);
    // Its marker holds its attempt: no count is written beside it.
    expect(ledger.setAttemptsMade).not.toHaveBeenCalled();
  });

  it('delivered while the store would not take its record: the redelivery writes the record once and sends nothing', async () => {
    const { d, attemptsSent, recorded } = deliverer({ recordFailures: 1 });
    await expect(d.deliver(job())).rejects.toThrow('the store is unavailable');
    expect(attemptsSent).toHaveLength(1);
    expect(recorded).toEqual([]);
    await d.deliver(job()); // the event, redelivered
    await d.deliver(job()); // and again
    expect(attemptsSent).toHaveLength(1);
    expect(recorded).toEqual([
      expect.objectContaining({
        eventId: 'evt-7',
        attempt: 1,
        outcome: 'delivered',
        statusCode: 200,
        url: PUBLIC,
      }),
    ]);
  });

  it('keeps the attempt (its URL) in the delivered marker only until its record is in the store', async () => {
    const { d, ledger } = deliverer({ recordFailures: 1 });
    await expect(d.deliver(job())).rejects.toThrow('the store is unavailable');
    expect(ledger.marker).toEqual({
      at: expect.any(Number),
      attempt: expect.objectContaining({ url: PUBLIC }),
    });
    await d.deliver(job());
    expect(ledger.marker).toEqual({ at: expect.any(Number) });
  });

  it('delivered, unrecorded, and the session gone by the redelivery: the record is written, no dead letter', async () => {
    const w = deliverer({ recordFailures: 1 });
    await expect(w.d.deliver(job())).rejects.toThrow('the store is unavailable');
    const gone = deliverer({ target: undefined, delivered: true });
    await gone.ledger.markDelivered('evt-7', w.ledger.marker as Delivered);
    await gone.d.deliver(job());
    expect(gone.recorded).toEqual([
      expect.objectContaining({ eventId: 'evt-7', outcome: 'delivered', url: PUBLIC }),
    ]);
    expect(gone.dead).toEqual([]);
  });

  it('does nothing for a session without a callback URL, or an event already delivered', async () => {
    const none = deliverer({ target: target({ callbackUrl: null }) });
    await none.d.deliver(job());
    const again = deliverer({ delivered: true });
    await again.d.deliver(job());
    expect([...none.attemptsSent, ...again.attemptsSent]).toEqual([]);
  });

  describe('about an interaction’s end', () => {
    const end = { sessionId: SESSION, interactionId: 'call-1', deliveryCount: 1 };

    it('sends it once session-service has stored that end; until then puts the event off, sending nothing', async () => {
      const early = deliverer({ stored: false });
      const putOff = await early.d.deliver(job({ endOf: end })).catch((e: unknown) => e);
      expect(putOff).toBeInstanceOf(RetryLater);
      expect((putOff as RetryLater).delayMs).toBe(100);
      expect(early.attemptsSent).toEqual([]);
      expect(early.asked).toEqual([{ sessionId: SESSION, interactionId: 'call-1' }]);
      const stored = deliverer({ stored: true });
      await stored.d.deliver(job({ endOf: { ...end, deliveryCount: 2 } }));
      expect(stored.attemptsSent).toHaveLength(1);
    });

    it('asks nothing for a session without a callback URL, an event delivered, or a retry after a failed attempt', async () => {
      const none = deliverer({ stored: false, target: target({ callbackUrl: null }) });
      await none.d.deliver(job({ endOf: end }));
      const again = deliverer({ stored: false, delivered: true });
      await again.d.deliver(job({ endOf: end }));
      const retry = deliverer({ stored: false, made: 1, now: T0 + 31_000 });
      await retry.d.deliver(job({ endOf: end }));
      expect([...none.asked, ...again.asked, ...retry.asked]).toEqual([]);
      expect(retry.attemptsSent).toHaveLength(1);
    });
  });

  it('schedules a retry after a failure, counting the attempt', async () => {
    const { d, recorded, ledger } = deliverer({
      answers: [{ kind: 'response', statusCode: 503, latencyMs: 4 }],
    });
    const retry = d.deliver(job());
    await expect(retry).rejects.toBeInstanceOf(RetryLater);
    await expect(retry).rejects.toMatchObject({ reason: 'HTTP 503' });
    expect(recorded).toEqual([expect.objectContaining({ attempt: 1, outcome: 'retry', error: 'HTTP 503' })]);
    expect(ledger.made).toBe(1);
  });

  it('reads no attempt count on an event’s first delivery (none can have been made), and counts on from it when redelivered', async () => {
    const { d, recorded, ledger } = deliverer({
      answers: [{ kind: 'response', statusCode: 503, latencyMs: 4 }],
    });
    await expect(d.deliver(job({ firstDelivery: true }))).rejects.toBeInstanceOf(RetryLater);
    expect(ledger.attemptsMade).not.toHaveBeenCalled();
    expect(ledger.made).toBe(1);
    await d.deliver(job({ firstDelivery: false }));
    expect(ledger.attemptsMade).toHaveBeenCalledWith('evt-7');
    expect(recorded).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'retry' }),
      expect.objectContaining({ attempt: 2, outcome: 'delivered' }),
    ]);
  });

  it('reads the count of a first delivery older than the first retry’s delay (a consumer made anew delivers all again)', async () => {
    // Its tries were made (all of them) before the consumer was made anew: not started again.
    const { d, attemptsSent, dead, ledger } = deliverer({ made: 3, now: T0 + 60_000 });
    await d.deliver(job({ firstDelivery: true }));
    expect(ledger.attemptsMade).toHaveBeenCalledWith('evt-7');
    expect(attemptsSent).toEqual([]);
    expect(dead).toEqual([expect.objectContaining({ attempts: 3 })]);
  });

  it('dead-letters now, for a replay, a retry that would come after the event stream has forgotten the event (full of newer events), instead of losing it without a trace', async () => {
    // The first retry (30 s) comes while the stream still holds the event: scheduled.
    const kept = deliverer({
      answers: [{ kind: 'response', statusCode: 503, latencyMs: 4 }],
      streamHoldsMs: 60_000,
    });
    await expect(kept.d.deliver(job())).rejects.toBeInstanceOf(RetryLater);
    expect(kept.dead).toEqual([]);
    // The second (120 s) would not: dead-lettered with the reason, its attempt recorded as the last.
    const { d, dead, recorded } = deliverer({
      made: 1,
      answers: [{ kind: 'response', statusCode: 503, latencyMs: 4 }],
      streamHoldsMs: 60_000,
    });
    await d.deliver(job());
    expect(recorded).toEqual([expect.objectContaining({ attempt: 2, outcome: 'failed' })]);
    expect(dead).toEqual([
      expect.objectContaining({ _id: 'evt-7', attempts: 2, reason: `HTTP 503; ${FORGOTTEN_BEFORE_RETRY}` }),
    ]);
  });

  it('dead-letters after the last attempt, with the reason, for its subaccount', async () => {
    const { d, dead, recorded } = deliverer({
      made: 2,
      target: target({ subaccountId: 'SA000000000000000001' }),
      answers: [{ kind: 'timeout', latencyMs: 10_000, error: 'no answer within 10000 ms' }],
    });
    await d.deliver(job());
    expect(recorded).toEqual([expect.objectContaining({ attempt: 3, outcome: 'failed' })]);
    expect(dead).toEqual([
      expect.objectContaining({
        _id: 'evt-7',
        subaccountId: 'SA000000000000000001',
        reason: 'no answer within 10000 ms',
        attempts: 3,
      }),
    ]);
  });

  it('dead-letters without an attempt what is too old, what has no attempts left, and a URL that is certainly bad', async () => {
    const old = deliverer({ now: T0 + 86_400_001 });
    await old.d.deliver(job());
    const spent = deliverer({ made: 3 });
    await spent.d.deliver(job());
    const inside = deliverer({ target: target({ callbackUrl: 'http://10.0.0.5/cb' }) });
    await inside.d.deliver(job());
    expect([...old.attemptsSent, ...spent.attemptsSent, ...inside.attemptsSent]).toEqual([]);
    expect([old.dead[0].reason, spent.dead[0].reason, inside.dead[0].reason]).toEqual([
      'older than 86400 s',
      'gave up after 3 attempts',
      'callback URL must not point at a private or reserved address',
    ]);
  });

  it('dead-letters what belongs to a session that no longer exists', async () => {
    const { d, dead } = deliverer({ target: undefined });
    await d.deliver(job());
    expect(dead).toEqual([expect.objectContaining({ reason: 'the session no longer exists', attempts: 0 })]);
  });

  it('waits out an open breaker without spending an attempt', async () => {
    const { d, recorded, ledger } = deliverer({ answers: [{ kind: 'circuit-open', host: '93.184.216.34' }] });
    await expect(d.deliver(job())).rejects.toMatchObject({
      reason: 'circuit open for 93.184.216.34',
      delayMs: 30_000,
    });
    expect(recorded).toEqual([expect.objectContaining({ outcome: 'circuit-open' })]);
    expect(ledger.made).toBe(0);
  });

  it('dead-letters, instead of waiting out, an open breaker or an interaction not yet stored past what the event stream will hold', async () => {
    // The event is a minute old; the stream holds events about 90 s: the breaker's 30 s wait would end after.
    const now = T0 + 60_000;
    const breaker = deliverer({
      answers: [{ kind: 'circuit-open', host: '93.184.216.34' }],
      now,
      streamHoldsMs: 80_000,
    });
    await breaker.d.deliver(job());
    expect(breaker.dead).toEqual([
      expect.objectContaining({
        _id: 'evt-7',
        attempts: 0,
        reason: `circuit open for 93.184.216.34; ${FORGOTTEN_BEFORE_RETRY}`,
      }),
    ]);
    const unstored = deliverer({ stored: false, now, streamHoldsMs: 60_050 });
    await unstored.d.deliver(job({ endOf: { sessionId: SESSION, interactionId: 'CA1', deliveryCount: 1 } }));
    expect(unstored.attemptsSent).toEqual([]);
    expect(unstored.dead).toEqual([expect.objectContaining({ _id: 'evt-7', attempts: 0 })]);
    // With room, it waits as before.
    const room = deliverer({
      answers: [{ kind: 'circuit-open', host: '93.184.216.34' }],
      now,
      streamHoldsMs: 100_000,
    });
    await expect(room.d.deliver(job())).rejects.toBeInstanceOf(RetryLater);
    expect(room.dead).toEqual([]);
  });

  describe("in its account's turn", () => {
    const second = () => job({ eventId: 'evt-8', attemptKey: 'evt-8', sequence: 8 });
    /** Lets every settled promise's continuations run (the deliveries are all in this process). */
    const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
    const gate = () => {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      return { open, opened };
    };
    /**
     * Sessions 1, 2, … owned as `owners` says (a subaccount, or null: the main account), in a block of
     * session ids of their own; `of(n, i)` is session n's i-th callback.
     */
    const owned = (block: number, owners: Array<string | null>) => {
      const sessionOf = (n: number) =>
        `00000000-0000-4000-8000-0000000${String(block).padStart(3, '0')}0${n}`;
      const ownerOf = new Map(owners.map((owner, i) => [sessionOf(i + 1), owner]));
      const targetOfSession = (sessionId: string) => target({ subaccountId: ownerOf.get(sessionId) ?? null });
      const of = (n: number, i: number) => {
        const base = job();
        return job({
          eventId: `evt-${n}-${i}`,
          attemptKey: `evt-${n}-${i}`,
          callback: { ...base.callback, sessionId: sessionOf(n) },
        });
      };
      return { targetOfSession, of };
    };

    it('waits for a turn when its account has every one, and is then sent (not sent back to come again)', async () => {
      const sends = gate();
      const { d, attemptsSent } = deliverer({ perAccount: 1, holdSends: sends.opened });
      const first = d.deliver(job());
      const next = d.deliver(second());
      await settle();
      expect(attemptsSent.map((a) => a.eventId)).toEqual(['evt-7']);
      sends.open();
      await expect(first).resolves.toBeUndefined();
      await expect(next).resolves.toBeUndefined();
      expect(attemptsSent.map((a) => a.eventId)).toEqual(['evt-7', 'evt-8']);
    });

    it('holds one subaccount to half of its account’s turns: its siblings’ and its main account’s callbacks are sent while its slow endpoint holds its own', async () => {
      const sends = gate();
      const { targetOfSession, of } = owned(1, ['SA000000000000000001', 'SA000000000000000002', null]);
      const { d, attemptsSent } = deliverer({ perAccount: 4, holdSends: sends.opened, targetOfSession });
      // The first subaccount's endpoint holds every callback it is sent: two of its four go, and the
      // others are put off (they wait nowhere: an account's waiting stays its own, however many
      // subaccounts it has).
      const slow = [0, 1].map((i) => d.deliver(of(1, i)));
      const putOff = [2, 3].map((i) => d.deliver(of(1, i)));
      await settle();
      expect(attemptsSent.map((a) => a.eventId)).toEqual(['evt-1-0', 'evt-1-1']);
      for (const p of putOff) await expect(p).rejects.toBeInstanceOf(RetryLater);
      // Its sibling's and its main account's are sent meanwhile.
      const others = [d.deliver(of(2, 0)), d.deliver(of(3, 0))];
      await settle();
      expect(attemptsSent.map((a) => a.eventId)).toEqual(['evt-1-0', 'evt-1-1', 'evt-2-0', 'evt-3-0']);
      sends.open();
      await Promise.all([...slow, ...others]);
      expect(attemptsSent).toHaveLength(4);
    });

    it('counts a host’s slots per owner: a subaccount holding every slot of a host its sibling shares leaves the sibling its own, signed as the sibling', async () => {
      const sends = gate();
      const { targetOfSession, of } = owned(2, ['SA000000000000000001', 'SA000000000000000002']);
      const { d, attemptsSent } = deliverer({ perAccount: 64, holdSends: sends.opened, targetOfSession });
      // Its 8 slots at the host (CALLBACK_PER_HOST_CONCURRENCY) held by its slow endpoint: a ninth waits for none.
      const held = Array.from({ length: 8 }, (_, i) => d.deliver(of(1, i)));
      await settle();
      expect(attemptsSent).toHaveLength(8);
      await expect(d.deliver(of(1, 8))).rejects.toThrow('has 8 callbacks in flight');
      // The sibling's, to the same host, is sent meanwhile, for the sibling.
      const sibling = d.deliver(of(2, 0));
      await settle();
      expect(attemptsSent.map((a) => [a.eventId, a.subaccountId]).slice(8)).toEqual([
        ['evt-2-0', 'SA000000000000000002'],
      ]);
      sends.open();
      await Promise.all([...held, sibling]);
    });

    it('hands the turn on once sent: writing the attempt down (the store, slow) holds no turn', async () => {
      const records = gate();
      const { d, attemptsSent, recorded } = deliverer({ perAccount: 1, holdRecords: records.opened });
      const first = d.deliver(job());
      const next = d.deliver(second());
      // Both sent while the first's record still waits for the store.
      for (let i = 0; i < 5 && attemptsSent.length < 2; i++) await settle();
      expect(attemptsSent.map((a) => a.eventId)).toEqual(['evt-7', 'evt-8']);
      expect(recorded).toEqual([]);
      records.open();
      await Promise.all([first, next]);
      expect(recorded).toHaveLength(2);
    });
  });
});

describe('a retry that waits long enough for the event stream to forget its event', () => {
  it('is written down with what its dead letter needs, under its event’s position, when it is scheduled', async () => {
    const { d, watched } = deliverer({
      schedule: [3600],
      answers: [{ kind: 'response', statusCode: 503, latencyMs: 5 } as AttemptResult],
    });
    await expect(d.deliver(job({ streamSequence: 70_001 }))).rejects.toBeInstanceOf(RetryLater);
    expect(watched).toEqual([
      {
        streamSequence: 70_001,
        retry: {
          eventId: 'evt-7',
          attemptKey: 'evt-7',
          attempts: 1,
          url: PUBLIC,
          callback: expect.objectContaining({
            accountId: ACCOUNT,
            sessionId: SESSION,
            eventName: 'SessionTimeout',
          }),
          sequence: 7,
          subaccountId: null,
          failedAt: T0 + 1000,
        },
      },
    ]);
  });

  it('is still scheduled when it cannot be written down (its loss would go unseen, as before)', async () => {
    const { d, watched } = deliverer({
      schedule: [3600],
      watchFails: true,
      answers: [{ kind: 'response', statusCode: 503, latencyMs: 5 } as AttemptResult],
    });
    const retry = await d.deliver(job()).catch((err: unknown) => err);
    expect(retry).toBeInstanceOf(RetryLater);
    expect((retry as RetryLater).delayMs).toBeGreaterThanOrEqual(0.8 * 3600_000);
    expect(watched).toEqual([]);
  });

  /** A callback watched when it was put off after `attempts` attempts, the last failed at `failedAt`. */
  const watchedAfter = (attempts: number, failedAt: number): WatchedRetry => ({
    eventId: 'evt-7',
    attemptKey: 'evt-7',
    attempts,
    url: PUBLIC,
    callback: job().callback,
    sequence: 7,
    subaccountId: null,
    failedAt,
  });
  const HOURS_LATER = T0 + 3 * 3600_000;

  it('ends, and its watch goes: delivered, dead-lettered (its session gone), or delivered already', async () => {
    const delivered = deliverer({ now: HOURS_LATER, watches: { 7: watchedAfter(3, T0) } });
    await delivered.d.deliver(job());
    expect(delivered.attemptsSent).toHaveLength(1);
    expect(delivered.watches.size).toBe(0);

    const gone = deliverer({ now: HOURS_LATER, target: undefined, watches: { 7: watchedAfter(3, T0) } });
    await gone.d.deliver(job());
    expect(gone.dead).toHaveLength(1);
    expect(gone.watches.size).toBe(0);

    const already = deliverer({ now: HOURS_LATER, delivered: true, watches: { 7: watchedAfter(3, T0) } });
    await already.d.deliver(job());
    expect(already.attemptsSent).toEqual([]);
    expect(already.watches.size).toBe(0);
  });

  it('dead-lettered because the stream would forget its event before it came again, its watch goes', async () => {
    const { d, dead, watches } = deliverer({
      now: HOURS_LATER,
      streamHoldsMs: 3 * 3600_000 + 60_000,
      answers: [{ kind: 'response', statusCode: 503, latencyMs: 5 } as AttemptResult],
      made: 3,
      schedule: [30, 120, 600, 3600],
      watches: { 7: watchedAfter(3, T0) },
    });
    await d.deliver(job());
    expect(dead).toEqual([
      expect.objectContaining({ reason: expect.stringContaining(FORGOTTEN_BEFORE_RETRY) }),
    ]);
    expect(watches.size).toBe(0);
  });

  it('put off again and again by an open breaker, keeps its watch as written after the attempt that failed (no write)', async () => {
    const { d, watched, watches } = deliverer({
      now: HOURS_LATER,
      made: 3,
      schedule: [30, 120, 600, 3600],
      answers: [
        { kind: 'circuit-open', host: '93.184.216.34' },
        { kind: 'circuit-open', host: '93.184.216.34' },
      ],
      watches: { 7: watchedAfter(3, T0 + 3600_000) },
    });
    await expect(d.deliver(job({ firstDelivery: false }))).rejects.toBeInstanceOf(RetryLater);
    await expect(d.deliver(job({ firstDelivery: false }))).rejects.toBeInstanceOf(RetryLater);
    expect(watched).toEqual([]);
    expect(watches.get(7)?.retry).toEqual(watchedAfter(3, T0 + 3600_000));
  });

  it('put off once its event is minutes old, though no retry hours ahead was ever scheduled (a breaker open throughout), is written down', async () => {
    const now = T0 + 20 * 60_000;
    const { d, watched } = deliverer({
      now,
      made: 2,
      answers: [{ kind: 'circuit-open', host: '93.184.216.34' }],
    });
    await expect(d.deliver(job({ firstDelivery: false }))).rejects.toBeInstanceOf(RetryLater);
    expect(watched).toEqual([{ streamSequence: 7, retry: watchedAfter(2, now) }]);
  });

  it('put off at its event’s last delivery, is dead-lettered, not given up by the consumer with no letter to replay', async () => {
    const { d, dead } = deliverer({ answers: [{ kind: 'circuit-open', host: '93.184.216.34' }], made: 2 });
    await d.deliver(job({ lastDelivery: true }));
    expect(dead).toEqual([
      expect.objectContaining({
        _id: 'evt-7',
        attempts: 2,
        reason: expect.stringContaining(PUT_OFF_TOO_OFTEN),
      }),
    ]);
  });

  it('put off while its watch cannot be looked up (NATS), writes nothing over what may be there', async () => {
    const { d, watched } = deliverer({
      now: HOURS_LATER,
      lookupFails: true,
      answers: [{ kind: 'response', statusCode: 503, latencyMs: 5 } as AttemptResult],
    });
    await expect(d.deliver(job({ firstDelivery: false }))).rejects.toBeInstanceOf(RetryLater);
    expect(watched).toEqual([]);
  });

  it('past its account’s share of the watch bucket, is put off unwatched, and counted', async () => {
    const { d, watched, counted } = deliverer({
      now: T0 + 20 * 60_000,
      shareTaken: true,
      answers: [{ kind: 'circuit-open', host: '93.184.216.34' }],
    });
    await expect(d.deliver(job({ firstDelivery: false }))).rejects.toBeInstanceOf(RetryLater);
    expect(watched).toEqual([]);
    expect(counted.get('maskline_callback_watches_refused_total')).toBe(1);
  });

  it('failed again, is written down again with the attempts made and when the last failed', async () => {
    const { d, watches } = deliverer({
      now: HOURS_LATER,
      made: 3,
      schedule: [30, 120, 600, 3600],
      answers: [{ kind: 'response', statusCode: 503, latencyMs: 5 } as AttemptResult],
      watches: { 7: watchedAfter(3, T0 + 3600_000) },
    });
    await expect(d.deliver(job({ firstDelivery: false }))).rejects.toBeInstanceOf(RetryLater);
    expect(watches.get(7)?.retry).toEqual(watchedAfter(4, HOURS_LATER));
  });

  it('is looked for at any delivery of an event minutes old, a first one too (a consumer made anew delivers all again), and at no younger one', async () => {
    const old = deliverer({ now: HOURS_LATER, watches: { 7: watchedAfter(3, T0) } });
    await old.d.deliver(job({ firstDelivery: true }));
    expect(old.looked).toEqual([7]);
    expect(old.watches.size).toBe(0);
    const young = deliverer({ now: T0 + 60_000 });
    await young.d.deliver(job({ firstDelivery: false }));
    expect(young.looked).toEqual([]);
  });

  it('is looked for at a young event’s delivery once attempts were made (delivered before its delay was out: a consumer made anew), and goes when it ends', async () => {
    const { d, looked, watches, dead } = deliverer({
      now: T0 + 3 * 60_000,
      made: 3,
      schedule: [30, 60, 600],
      answers: [{ kind: 'response', statusCode: 410, latencyMs: 5 } as AttemptResult],
      watches: { 7: watchedAfter(3, T0 + 150_000) },
    });
    await d.deliver(job({ firstDelivery: true }));
    expect(dead).toEqual([expect.objectContaining({ _id: 'evt-7' })]);
    expect(looked).toEqual([7]);
    expect(watches.size).toBe(0);
  });

  it('leaves another callback’s watch at its event’s position alone (a stream made again numbers anew)', async () => {
    const other = { ...watchedAfter(3, T0), eventId: 'evt-old', attemptKey: 'evt-old' };
    const { d, watches } = deliverer({ now: HOURS_LATER, watches: { 7: other } });
    await d.deliver(job());
    expect(watches.get(7)?.retry).toEqual(other);
  });

  it('is not written down when it comes within minutes (the consumer host judges those)', async () => {
    const { d, watched } = deliverer({
      answers: [{ kind: 'response', statusCode: 503, latencyMs: 5 } as AttemptResult],
    });
    await expect(d.deliver(job())).rejects.toBeInstanceOf(RetryLater);
    expect(watched).toEqual([]);
  });

  it('found lost but delivered after all, or dead-lettered already (its watch outlived it), is not dead-lettered', async () => {
    const { d, dead } = deliverer({ delivered: true });
    await expect(d.deadLetterLost(watchedAfter(3, T0))).resolves.toBe(false);
    expect(dead).toEqual([]);
    const lettered = deliverer({ lettered: ['evt-7'] });
    await expect(lettered.d.deadLetterLost(watchedAfter(3, T0))).resolves.toBe(false);
    expect(lettered.dead).toEqual([]);
  });

  it('found lost, is dead-lettered with a reason that says so and the attempts made, to be replayed', async () => {
    const { d, dead } = deliverer({});
    await expect(
      d.deadLetterLost({
        eventId: 'evt-9',
        attemptKey: 'evt-9',
        attempts: 5,
        url: PUBLIC,
        callback: job().callback,
        sequence: 9,
        subaccountId: null,
        failedAt: T0 - 3600_000,
      }),
    ).resolves.toBe(true);
    expect(dead).toEqual([
      expect.objectContaining({
        _id: 'evt-9',
        accountId: ACCOUNT,
        sessionId: SESSION,
        eventName: 'SessionTimeout',
        params: { EventName: 'SessionTimeout', SessionUUID: SESSION },
        sequence: 9,
        url: PUBLIC,
        reason: LOST_BEFORE_RETRY,
        attempts: 5,
        // When its last attempt failed: its numbers are redacted counting from then.
        at: new Date(T0 - 3600_000),
        replayedAt: null,
      }),
    ]);
  });
});

describe('a callback’s breaker', () => {
  it('is its owner’s and host’s: a subaccount failing on a host its siblings use opens none of theirs', () => {
    const attempt = new CallbackAttempt({} as never, {} as never, {} as never);
    const url = 'http://127.0.0.1:9/maskline';
    const [first, sibling, main] = [
      attempt.breakerOf(ACCOUNT, 'SA000000000000000001', url),
      attempt.breakerOf(ACCOUNT, 'SA000000000000000002', url),
      attempt.breakerOf(ACCOUNT, null, url),
    ];
    expect(new Set([first.key, sibling.key, main.key]).size).toBe(3);
    expect(attempt.breakerOf(ACCOUNT, null, 'http://127.0.0.1:9/other').key).toBe(main.key);
  });
});

describe('a recording callback’s URL', () => {
  const URL = 'https://rec.test/Recordings/RE1';
  const recordingTarget = target({ recordingCallbackUrl: PUBLIC });
  /** A recording callback with these URL parameters, and its URL sealed as the event carried it, if given. */
  const recordingCallback = (
    urls: { RecordingURL: string; RecordingResourceURL: string },
    sealedRecordingUrl?: SealedRecordingUrl,
  ): DeliveryJob =>
    job({
      callback: {
        accountId: ACCOUNT,
        sessionId: SESSION,
        target: 'recording',
        eventName: 'SessionRecordingCompleted',
        params: { EventName: 'SessionRecordingCompleted', ...urls },
        ...(sealedRecordingUrl ? { sealedRecordingUrl } : {}),
      },
    });
  const recordingJob = (keys = RECORDING_KEYS, sealedFor = 'call-1'): DeliveryJob =>
    recordingCallback(
      { RecordingURL: '', RecordingResourceURL: '' },
      {
        callId: 'call-1',
        sealed: new RecordingUrlSeal(keys).seal(URL, {
          accountId: ACCOUNT,
          sessionId: SESSION,
          callId: sealedFor,
        }),
      },
    );

  it('is opened for each attempt only: the watch of its retry and its dead letter keep it sealed', async () => {
    // Failed twenty minutes after its event: put off, and written down.
    const put = deliverer({
      target: recordingTarget,
      now: T0 + 20 * 60_000,
      answers: [{ kind: 'response', statusCode: 503, latencyMs: 4 }],
    });
    const sealed = recordingJob();
    await expect(put.d.deliver(sealed)).rejects.toBeInstanceOf(RetryLater);
    expect(put.attemptsSent[0].params).toMatchObject({ RecordingURL: URL, RecordingResourceURL: URL });
    expect(put.watched).toHaveLength(1);
    expect(put.watched[0].retry.callback.sealedRecordingUrl).toEqual(sealed.callback.sealedRecordingUrl);
    expect(JSON.stringify(put.watched)).not.toContain('rec.test');
    expect(sealed.callback.params.RecordingURL).toBe('');

    // Its last attempt failed: dead-lettered with the URL sealed, for a replay to open again.
    const last = deliverer({
      target: recordingTarget,
      made: 2,
      answers: [{ kind: 'timeout', latencyMs: 10_000, error: 'no answer within 10000 ms' }],
    });
    const lastJob = recordingJob();
    await last.d.deliver(lastJob);
    expect(last.attemptsSent[0].params.RecordingURL).toBe(URL);
    expect(last.dead).toEqual([
      expect.objectContaining({ _id: 'evt-7', sealedRecordingUrl: lastJob.callback.sealedRecordingUrl }),
    ]);
    expect(JSON.stringify(last.dead)).not.toContain('rec.test');
  });

  it('one it cannot open (a key not held, another call’s) goes as "", logged by key id and never the URL', async () => {
    const gone = deliverer({ target: recordingTarget });
    const foreign = recordingJob(parseKeyring(testKeyring('gone')));
    await gone.d.deliver(foreign);
    const other = deliverer({ target: recordingTarget });
    await other.d.deliver(recordingJob(RECORDING_KEYS, 'call-2'));
    for (const sent of [gone.attemptsSent[0], other.attemptsSent[0]]) {
      expect(sent.params).toMatchObject({ RecordingURL: '', RecordingResourceURL: '' });
    }
    expect(gone.logged.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 50, keyId: 'gone', sessionId: SESSION }),
    ]);
    expect(gone.logged.join('')).not.toContain('rec.test');
    expect(gone.logged.join('')).not.toContain(foreign.callback.sealedRecordingUrl!.sealed.ct);
  });

  it('sent in clear by a router before the seal, goes as it came', async () => {
    const { d, attemptsSent, logged } = deliverer({ target: recordingTarget });
    await d.deliver(recordingCallback({ RecordingURL: URL, RecordingResourceURL: URL }));
    expect(attemptsSent[0].params).toMatchObject({ RecordingURL: URL, RecordingResourceURL: URL });
    expect(logged).toEqual([]);
  });
});
