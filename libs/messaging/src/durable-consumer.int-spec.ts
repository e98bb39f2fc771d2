import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import {
  AccountCredentialsChanged,
  ApiKeyRevoked,
  CodedError,
  ErrorCodes,
  GetNumberRouting,
  SelfTestProbeRecorded,
  STREAMS,
} from '@maskline/contracts';
import type { Logger } from 'pino';
import { LOGGER, MetricsService } from '@maskline/observability';
import {
  expectEventually,
  kitAppForSuite,
  startKitApp,
  startTestNats,
  type RunningProcess,
} from '@maskline/testing';
import { DurableConsumer, type EventMeta, type EventOf } from './durable-consumer.decorator';
import { deliveryLimitOf } from './durable-consumer.host';
import { encodeJson } from './json-codec';
import { EventRetention } from './event-retention';
import { RetryLater } from './retry-later.error';
import { RpcClient } from './rpc-client';
import { RpcErrorFilter } from './rpc-error-filter';

const EVENTS = [SelfTestProbeRecorded] as const;
/** Events whose probe id starts with this wait out a long retry, as a failing callback does. */
const PARKED = '00000000';

@Injectable()
class Parker {
  readonly handled = new Set<string>();

  /** When each delivery of an event whose probe id starts with FRACTIONAL arrived. */
  readonly deliveries: number[] = [];

  @DurableConsumer({ durable: 'parker', events: EVENTS, concurrency: 16, maxAckPending: 'unlimited' })
  onEvent({ payload }: EventOf<typeof EVENTS>): void {
    if (payload.probeId.startsWith(PARKED)) throw new RetryLater('endpoint keeps failing', 3_600_000);
    if (payload.probeId.startsWith(FRACTIONAL)) {
      this.deliveries.push(performance.now());
      // A computed delay with a fraction (backoff with jitter, a Retry-After plus jitter).
      if (this.deliveries.length === 1) throw new RetryLater('provider busy', 1500 + 1 / 3);
    }
    this.handled.add(payload.probeId);
  }
}
const FRACTIONAL = 'ffffffff';
/** Events whose probe id starts with this are put off 24 times (PutOff), then handled. */
const OFTEN_PUT_OFF = 'eeeeeeee';

@Injectable()
class PutOff {
  readonly handled = new Set<string>();
  private readonly deliveries = new Map<string, number>();

  // A count of its own: a consumer without one gives an event up at its 20th delivery.
  @DurableConsumer({ durable: 'put-off', events: EVENTS, maxDeliver: 50 })
  onEvent({ payload }: EventOf<typeof EVENTS>): void {
    if (!payload.probeId.startsWith(OFTEN_PUT_OFF)) return;
    const n = (this.deliveries.get(payload.probeId) ?? 0) + 1;
    this.deliveries.set(payload.probeId, n);
    if (n < 25) throw new RetryLater('provider account held back', 1);
    this.handled.add(payload.probeId);
  }
}

describe('a durable consumer with many retries parked (real NATS JetStream)', () => {
  let nats: RunningProcess;
  let nc: NatsConnection;
  let app: INestApplicationContext;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
    app = await startKitApp(nats.url, [Parker, PutOff], 'callback-dispatcher');
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await nats?.stop();
  });

  it('keeps handling fresh events behind more parked retries than the server’s default cap (1,000)', async () => {
    const js = nc.jetstream();
    const publish = (probeId: string) =>
      js.publish(SelfTestProbeRecorded.subject, encodeJson({ probeId, storedAt: new Date().toISOString() }));
    for (let i = 0; i < 1200; i++) await publish(`${PARKED}-${randomUUID().slice(9)}`);
    const fresh = randomUUID();
    await publish(fresh);
    const parker = app.get(Parker);
    await expectEventually(() => expect(parker.handled.has(fresh)).toBe(true), { timeoutMs: 20_000 });
    const info = await (await nc.jetstreamManager()).consumers.info(STREAMS.MASKLINE_EVENTS.name, 'parker');
    expect(info.num_ack_pending).toBeGreaterThanOrEqual(1000);
  });

  it('waits out a retry delay with a fraction of a millisecond (the server would take it as none)', async () => {
    const probeId = `${FRACTIONAL}-${randomUUID().slice(9)}`;
    await nc
      .jetstream()
      .publish(SelfTestProbeRecorded.subject, encodeJson({ probeId, storedAt: new Date().toISOString() }));
    const parker = app.get(Parker);
    await expectEventually(() => expect(parker.handled.has(probeId)).toBe(true), { timeoutMs: 20_000 });
    expect(parker.deliveries).toHaveLength(2);
    // A lower bound only: a redelivery can come late on a busy machine, never early.
    expect(parker.deliveries[1] - parker.deliveries[0]).toBeGreaterThanOrEqual(1400);
  });

  it('says an event put off again and again at info its first 3 times and one in 20, the rest at debug', async () => {
    const logger = app.get<Logger>(LOGGER);
    const info = jest.spyOn(logger, 'info');
    const debug = jest.spyOn(logger, 'debug');
    const probeId = `${OFTEN_PUT_OFF}-${randomUUID().slice(9)}`;
    await nc
      .jetstream()
      .publish(SelfTestProbeRecorded.subject, encodeJson({ probeId, storedAt: new Date().toISOString() }));
    const putOff = app.get(PutOff);
    await expectEventually(() => expect(putOff.handled.has(probeId)).toBe(true), { timeoutMs: 20_000 });
    const mine = (spy: jest.SpyInstance) =>
      spy.mock.calls
        .filter(([, msg]) => msg === 'event retry scheduled')
        .filter(([line]) => (line as { reason?: string }).reason === 'provider account held back')
        .map(([line]) => (line as { delivery: number }).delivery);
    expect(mine(info)).toEqual([1, 2, 3, 20]);
    expect(mine(debug)).toHaveLength(20);
    info.mockRestore();
    debug.mockRestore();
  });
});

let releaseBlocked!: () => void;
const blocked = new Promise<void>((resolve) => (releaseBlocked = resolve));

@Injectable()
class Blocker {
  readonly handled = new Set<string>();

  @DurableConsumer({ durable: 'blocker', events: EVENTS, concurrency: 1 })
  async onEvent({ payload }: EventOf<typeof EVENTS>): Promise<void> {
    await blocked;
    this.handled.add(payload.probeId);
  }
}

describe('a durable consumer’s lag, as its metrics show it (real NATS JetStream)', () => {
  let nats: RunningProcess;
  let nc: NatsConnection;
  let app: INestApplicationContext;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
    app = await startKitApp(nats.url, [Blocker], 'callback-dispatcher');
  });

  afterAll(async () => {
    releaseBlocked();
    await app?.close();
    await nc?.close();
    await nats?.stop();
  });

  it('reports the events not yet delivered and those delivered unsettled, and none once the consumer has caught up', async () => {
    const figure = async (metric: string) =>
      Number(
        new RegExp(`${metric}\\{[^}]*consumer="blocker"[^}]*\\} (\\d+)`).exec(
          await app.get(MetricsService).render(),
        )?.[1],
      );
    const lag = () => figure('maskline_consumer_pending_messages');
    const unsettled = () => figure('maskline_consumer_unsettled_messages');
    const js = nc.jetstream();
    for (let i = 0; i < 20; i++) {
      await js.publish(
        SelfTestProbeRecorded.subject,
        encodeJson({ probeId: randomUUID(), storedAt: new Date().toISOString() }),
      );
    }
    // One event is being handled and at most a pull's worth is buffered: the rest is lag.
    await expectEventually(async () => expect(await lag()).toBeGreaterThanOrEqual(15));
    // The one being handled (and those in the client's buffer) are delivered and not yet settled:
    // with those not yet delivered, the 20 (read while the handler is held, so nothing moves).
    await expectEventually(async () => {
      const [waiting, held] = [await lag(), await unsettled()];
      expect(held).toBeGreaterThanOrEqual(1);
      expect(waiting + held).toBe(20);
    });

    releaseBlocked();
    await expectEventually(() => expect(app.get(Blocker).handled.size).toBe(20));
    await expectEventually(async () => expect(await lag()).toBe(0));
    await expectEventually(async () => expect(await unsettled()).toBe(0));
  });
});

const PAIR = [SelfTestProbeRecorded, AccountCredentialsChanged] as const;

/** An earlier release's consumer of the pair: a wildcard filter, every event on the stream delivered. */
@Injectable()
class WideConsumer {
  @DurableConsumer({ durable: 'pair', events: PAIR, filterSubject: 'events.>' })
  onEvent(): void {}
}

/** This release's: filtered to the pair's subjects. */
@Injectable()
class PairConsumer {
  readonly subjects: string[] = [];

  @DurableConsumer({ durable: 'pair', events: PAIR })
  onEvent({ subject }: EventOf<typeof PAIR>): void {
    this.subjects.push(subject);
  }
}

describe('a durable consumer of several events (real NATS JetStream)', () => {
  let nats: RunningProcess;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  const appWith = (consumer: typeof WideConsumer | typeof PairConsumer) =>
    startKitApp(nats.url, [consumer], 'callback-dispatcher');

  it('is delivered its events only, never another on the stream, once an earlier wildcard filter is replaced', async () => {
    // The durable as an earlier release left it: filtered to the whole stream.
    await (await appWith(WideConsumer)).close();
    const jsm = await nc.jetstreamManager();
    expect((await jsm.consumers.info(STREAMS.MASKLINE_EVENTS.name, 'pair')).config.filter_subject).toBe(
      'events.>',
    );

    const app = await appWith(PairConsumer);
    try {
      const js = nc.jetstream();
      const at = new Date().toISOString();
      // Not one of its events, published first: delivered, it would come before the others.
      await js.publish(ApiKeyRevoked.subject, encodeJson({ sid: `SK${'a'.repeat(32)}`, at }));
      await js.publish(SelfTestProbeRecorded.subject, encodeJson({ probeId: randomUUID(), storedAt: at }));
      await js.publish(AccountCredentialsChanged.subject, encodeJson({ authId: `MA${'A'.repeat(18)}`, at }));
      const consumer = app.get(PairConsumer);
      await expectEventually(() => expect(consumer.subjects).toHaveLength(2));
      expect(consumer.subjects.sort()).toEqual(PAIR.map((e) => e.subject).sort());
      const info = await jsm.consumers.info(STREAMS.MASKLINE_EVENTS.name, 'pair');
      expect(info.config.filter_subjects?.sort()).toEqual(PAIR.map((e) => e.subject).sort());
      expect(info.config.filter_subject ?? '').toBe('');
      // Two deliveries in all: the server never sent it the revocation.
      expect(info.delivered.consumer_seq).toBe(2);
      expect(info.num_pending).toBe(0);
    } finally {
      await app.close();
    }
  });
});

/** Events whose probe id starts with this wait out an hour's retry, as a failing callback does. */
const WAITING = 'aaaaaaaa';

@Injectable()
class Waiter {
  @DurableConsumer({ durable: 'waiter', events: EVENTS, maxAckPending: 'unlimited' })
  onEvent({ payload }: EventOf<typeof EVENTS>): void {
    if (payload.probeId.startsWith(WAITING)) throw new RetryLater('endpoint keeps failing', 3_600_000);
  }
}

describe('a durable consumer on an event stream full of newer events (real NATS JetStream)', () => {
  let nats: RunningProcess;
  let nc: NatsConnection;
  let app: INestApplicationContext;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
    // The smallest NATS storage a deployment may say it has: the stream's share is about 42 MB.
    app = await startKitApp(nats.url, [Waiter], 'callback-dispatcher', {
      NATS_STORAGE_BYTES: 64 * 1024 ** 2,
    });
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await nats?.stop();
  });

  it('gives up, said and counted, a retry the stream would forget before it came, instead of leaving it to vanish', async () => {
    const js = nc.jetstream();
    // One tenant's flood fills the stream past its share: it now remembers seconds.
    const big = new Uint8Array(100 * 1024);
    for (let i = 0; i < 10; i++) {
      await Promise.all(Array.from({ length: 60 }, () => js.publish('events.flood.v1', big)));
    }
    const { state } = await (await nc.jetstreamManager()).streams.info(STREAMS.MASKLINE_EVENTS.name);
    expect(state.first_seq).toBeGreaterThan(1);
    await app.get(EventRetention).read();

    await js.publish(
      SelfTestProbeRecorded.subject,
      encodeJson({ probeId: `${WAITING}-${randomUUID().slice(9)}`, storedAt: new Date().toISOString() }),
    );
    const terminal = async () =>
      Number(
        /maskline_events_consumed_total\{[^}]*consumer="waiter"[^}]*outcome="terminal"[^}]*\} (\d+)/.exec(
          await app.get(MetricsService).render(),
        )?.[1] ?? 0,
      );
    await expectEventually(async () => expect(await terminal()).toBe(1));
    // Not left waiting an hour in a stream that would drop it unseen.
    const info = await (await nc.jetstreamManager()).consumers.info(STREAMS.MASKLINE_EVENTS.name, 'waiter');
    expect(info.num_ack_pending).toBe(0);
  });
});

/** Deliveries that fail before what the consumer stands on is back: more than the 20 given to a bug. */
const FAILING_DELIVERIES = 24;

/** What a store's driver throws, by name, as a service's error filter reads them (`FakeStoreFilter`). */
const STORE_DOWN = 'StoreDownError';
const STORE_DEADLINE = 'StoreDeadlineError';
const storeError = (name: string) => Object.assign(new Error(name), { name });

/** A service's filter with a store: one it cannot reach is unreachable; one past its deadline, only unavailable. */
class FakeStoreFilter extends RpcErrorFilter {
  protected override mapUnknown(err: unknown): CodedError | undefined {
    const name = (err as Error | null)?.name;
    return name === STORE_DOWN || name === STORE_DEADLINE
      ? new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the store is unavailable', { retryable: true })
      : undefined;
  }

  protected override unreachableDependency(err: unknown): boolean {
    return (err as Error | null)?.name === STORE_DOWN;
  }
}

/**
 * A consumer whose events say how their deliveries fail before one succeeds: asking number-pool
 * (not running: nobody answers), as session-service asks it about a taken number; its store down,
 * or past its deadline; a bug. Retried within milliseconds here.
 */
@Injectable()
class Asker {
  readonly deliveries = new Map<string, number>();
  readonly handled = new Set<string>();

  constructor(private readonly rpc: RpcClient) {}

  @DurableConsumer({ durable: 'asker', events: EVENTS, retryBaseMs: 1, retryMaxMs: 5 })
  async onEvent({ payload }: EventOf<typeof EVENTS>): Promise<void> {
    const delivery = (this.deliveries.get(payload.probeId) ?? 0) + 1;
    this.deliveries.set(payload.probeId, delivery);
    const kind = payload.probeId.slice(0, 8);
    if (kind === BUGGY) throw new TypeError('cannot read properties of undefined');
    if (kind === SLOW_STORE) throw storeError(STORE_DEADLINE);
    if (delivery <= FAILING_DELIVERIES) {
      if (kind === ASKS) await this.rpc.request(GetNumberRouting, { number: '+14155550100' });
      if (kind === STORE_BACK) throw storeError(STORE_DOWN);
    }
    // The store back, and slow a moment under the backlog.
    if (kind === STORE_BACK && delivery <= FAILING_DELIVERIES + 2) throw storeError(STORE_DEADLINE);
    this.handled.add(payload.probeId);
  }
}
const BUGGY = 'bbbbbbbb';
const SLOW_STORE = '55555555';
const ASKS = 'aaaaaaaa';
const STORE_BACK = 'dddddddd';
/** The server's count for the consumer: 6 hours of tries at its longest backoff (5 ms here), and 20. */
const LIMIT = deliveryLimitOf({ retryMaxMs: 5 });

describe('a durable consumer whose dependency is down for long (real NATS JetStream)', () => {
  let nats: RunningProcess;
  let nc: NatsConnection;
  let app: INestApplicationContext;
  const start = () => startKitApp(nats.url, [Asker], 'session-service', {}, FakeStoreFilter);

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
    app = await start();
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await nats?.stop();
  });

  const consumerInfo = async () =>
    (await nc.jetstreamManager()).consumers.info(STREAMS.MASKLINE_EVENTS.name, 'asker');
  const publish = async (kind: string) => {
    const probeId = `${kind}-${randomUUID().slice(9)}`;
    await nc
      .jetstream()
      .publish(SelfTestProbeRecorded.subject, encodeJson({ probeId, storedAt: new Date().toISOString() }));
    return probeId;
  };
  /** Events the consumer gave up after its tries, as its metric counts them (NaN if it has no series). */
  const givenUp = async () => {
    const line = (await app.get(MetricsService).render())
      .split('\n')
      .find(
        (l) =>
          l.startsWith('maskline_events_given_up_total{') &&
          l.includes('consumer="asker"') &&
          l.includes('code="EVENT.MAX_DELIVER"'),
      );
    return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
  };

  // First, while nothing this process stands on has been unreachable.
  it.each([
    ['a bug', BUGGY],
    ['its own store command past its deadline (slow for what it asked, not down)', SLOW_STORE],
  ])(
    'gives an event up at its 20th delivery when its handler fails by %s, said and counted',
    async (_, kind) => {
      const before = await givenUp();
      expect(before).toBeGreaterThanOrEqual(0);
      const probeId = await publish(kind);
      await expectEventually(async () => expect(await givenUp()).toBe(before + 1), { timeoutMs: 20_000 });
      expect(app.get(Asker).deliveries.get(probeId)).toBe(20);
      expect((await consumerInfo()).num_ack_pending).toBe(0);
    },
  );

  it('tries the event again until what it asks answers, however many tries that takes', async () => {
    const probeId = await publish(ASKS);
    const asker = app.get(Asker);
    await expectEventually(() => expect(asker.handled.has(probeId)).toBe(true), { timeoutMs: 20_000 });
    expect(asker.deliveries.get(probeId)).toBe(FAILING_DELIVERIES + 1);
    expect((await consumerInfo()).config.max_deliver).toBe(LIMIT);
    expect(LIMIT).toBe(20 + (6 * 3600_000) / 5);
  });

  it('keeps an event through its store’s outage, and through the slow moments as the store comes back', async () => {
    const probeId = await publish(STORE_BACK);
    const asker = app.get(Asker);
    await expectEventually(() => expect(asker.handled.has(probeId)).toBe(true), { timeoutMs: 20_000 });
    expect(asker.deliveries.get(probeId)).toBe(FAILING_DELIVERIES + 3);
  });

  it('keeps the event when a replica of an earlier release, starting meanwhile, sets the server’s count back to 20', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.update(STREAMS.MASKLINE_EVENTS.name, 'asker', { max_deliver: 20 });
    const probeId = await publish(ASKS);
    const asker = app.get(Asker);
    await expectEventually(() => expect(asker.handled.has(probeId)).toBe(true), { timeoutMs: 20_000 });
    expect(asker.deliveries.get(probeId)).toBe(FAILING_DELIVERIES + 1);
    expect((await consumerInfo()).config.max_deliver).toBe(LIMIT);
  });

  it('raises the server’s count of an earlier release’s consumer (20 deliveries) when it starts', async () => {
    await (
      await nc.jetstreamManager()
    ).consumers.update(STREAMS.MASKLINE_EVENTS.name, 'asker', {
      max_deliver: 20,
    });
    expect((await consumerInfo()).config.max_deliver).toBe(20);
    await app.close();
    app = await start();
    expect((await consumerInfo()).config.max_deliver).toBe(LIMIT);
    const probeId = await publish(ASKS);
    const asker = app.get(Asker);
    await expectEventually(() => expect(asker.handled.has(probeId)).toBe(true), { timeoutMs: 20_000 });
    expect(asker.deliveries.get(probeId)).toBe(FAILING_DELIVERIES + 1);
  });
});

/** What a consumer made anew records once done (its claims, say). */
const ONCE_BUCKET = 'once-records';

@Injectable()
class OnceConsumer {
  readonly handled: string[] = [];

  @DurableConsumer({ durable: 'once', events: EVENTS, concurrency: 1, oncePer: [ONCE_BUCKET] })
  onEvent({ payload }: EventOf<typeof EVENTS>): void {
    this.handled.push(payload.probeId);
  }
}

describe('a durable consumer made anew (real NATS JetStream)', () => {
  let nats: RunningProcess;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('never reads back past what its once-records remember: an event published before their oldest is not handled again', async () => {
    // The stream as a running system has it (made by any service), and the consumer's records.
    await (await startKitApp(nats.url, [], 'callback-dispatcher')).close();
    const js = nc.jetstream();
    const records = await js.views.kv(ONCE_BUCKET, { history: 1 });
    const publish = async (probeId: string) =>
      js.publish(SelfTestProbeRecorded.subject, encodeJson({ probeId, storedAt: new Date().toISOString() }));
    // Handled long ago, by a consumer since lost: its record forgotten (the oldest go first).
    const forgotten = randomUUID();
    await publish(forgotten);
    await records.put('r1', new Uint8Array([1]));
    await records.put('r2', new Uint8Array([1]));
    await records.delete('r1');
    await (await nc.jetstreamManager()).streams.purge(`KV_${ONCE_BUCKET}`, { keep: 1 });
    // Published after the oldest record still held: it may never have been handled.
    const kept = randomUUID();
    await publish(kept);

    const [first, second] = await Promise.all([
      startKitApp(nats.url, [OnceConsumer], 'callback-dispatcher'),
      // A second replica making it at the same moment (from a start a moment apart) uses the first's.
      startKitApp(nats.url, [OnceConsumer], 'callback-dispatcher'),
    ]);
    try {
      const handled = () => [...first.get(OnceConsumer).handled, ...second.get(OnceConsumer).handled];
      await expectEventually(() => expect(handled()).toContain(kept));
      // Delivered in order: had it started earlier, the forgotten one would have come first.
      expect(handled()).toEqual([kept]);
      const info = await (await nc.jetstreamManager()).consumers.info(STREAMS.MASKLINE_EVENTS.name, 'once');
      expect(info.config.deliver_policy).toBe('by_start_time');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

/**
 * The progress reports ("+WPI", JetStream's `working()`) a consumer's replica sends for each event, as
 * the server receives them: a handler made slow waits for the n-th of its own, each a third of its ack
 * wait apart, instead of a timer (so it has run at least that long when it goes on).
 */
class ProgressReports {
  private readonly seen = new Map<string, number>();
  private readonly waiters = new Set<() => void>();

  watch(nc: NatsConnection, consumer: string): void {
    nc.subscribe(`$JS.ACK.${STREAMS.MASKLINE_EVENTS.name}.${consumer}.>`, {
      callback: (_err, m) => {
        if (new TextDecoder().decode(m.data) !== '+WPI') return;
        // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.…
        const key = `${consumer}.${m.subject.split('.')[5]}`;
        this.seen.set(key, (this.seen.get(key) ?? 0) + 1);
        for (const wake of [...this.waiters]) wake();
      },
    });
  }

  async reported(consumer: string, streamSequence: number, n: number): Promise<void> {
    const key = `${consumer}.${streamSequence}`;
    while ((this.seen.get(key) ?? 0) < n) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          resolve();
        };
        this.waiters.add(wake);
      });
    }
  }
}
const progress = new ProgressReports();

/** Events whose handler works for three times its consumer's ack wait (a store command at its deadline). */
const SLOW = '5105105a';
const SLOW_ACK_WAIT_MS = 1_000;

@Injectable()
class SlowHandler {
  readonly deliveries = new Map<string, number>();
  readonly done = new Set<string>();

  @DurableConsumer({ durable: 'slow', events: EVENTS, ackWaitMs: SLOW_ACK_WAIT_MS })
  async onEvent({ payload }: EventOf<typeof EVENTS>, meta: EventMeta): Promise<void> {
    this.deliveries.set(payload.probeId, (this.deliveries.get(payload.probeId) ?? 0) + 1);
    if (payload.probeId.startsWith(SLOW)) {
      // Three ack waits at work (nine reports, each a third of one apart).
      await progress.reported('slow', meta.streamSequence, 9);
    }
    this.done.add(payload.probeId);
  }
}

describe('a durable consumer whose handler takes longer than its ack wait (real NATS JetStream)', () => {
  const suite = kitAppForSuite([SlowHandler], 'callback-dispatcher');
  beforeAll(() => progress.watch(suite.nc, 'slow'));

  it('is not delivered the event again while it is still at work', async () => {
    const probeId = `${SLOW}-${randomUUID().slice(9)}`;
    await suite.nc
      .jetstream()
      .publish(SelfTestProbeRecorded.subject, encodeJson({ probeId, storedAt: new Date().toISOString() }));
    const handler = suite.app.get(SlowHandler);
    await expectEventually(() => expect(handler.done.has(probeId)).toBe(true), { timeoutMs: 15_000 });
    expect(handler.deliveries.get(probeId)).toBe(1);
    const info = await (
      await suite.nc.jetstreamManager()
    ).consumers.info(STREAMS.MASKLINE_EVENTS.name, 'slow');
    // Every delivery the server made on this consumer, redeliveries included.
    expect(info.delivered.consumer_seq).toBe(1);
  });
});

/** Events whose handler takes 2.5 times its consumer's ack wait, two slots for eight of them. */
const QUEUED = '0ee0ee0e';

@Injectable()
class BusySlots {
  readonly deliveries = new Map<string, number>();
  readonly done = new Set<string>();
  /** The most handlers of one event ever running at once. */
  mostAtOnce = 0;
  private readonly running = new Map<string, number>();

  @DurableConsumer({ durable: 'busy', events: EVENTS, ackWaitMs: SLOW_ACK_WAIT_MS, concurrency: 2 })
  async onEvent({ payload }: EventOf<typeof EVENTS>, meta: EventMeta): Promise<void> {
    const id = payload.probeId;
    this.deliveries.set(id, (this.deliveries.get(id) ?? 0) + 1);
    this.running.set(id, (this.running.get(id) ?? 0) + 1);
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running.get(id)!);
    // Past two ack waits at work, while the events behind it wait in the client.
    await progress.reported('busy', meta.streamSequence, 7);
    this.running.set(id, this.running.get(id)! - 1);
    this.done.add(id);
  }
}

describe('a durable consumer whose events wait for its slots longer than its ack wait (real NATS JetStream)', () => {
  const suite = kitAppForSuite([BusySlots], 'callback-dispatcher');
  beforeAll(() => progress.watch(suite.nc, 'busy'));

  it('never handles one event twice at once, and handles each once', async () => {
    const ids = Array.from({ length: 8 }, () => `${QUEUED}-${randomUUID().slice(9)}`);
    for (const probeId of ids) {
      await suite.nc
        .jetstream()
        .publish(SelfTestProbeRecorded.subject, encodeJson({ probeId, storedAt: new Date().toISOString() }));
    }
    const busy = suite.app.get(BusySlots);
    await expectEventually(() => expect(ids.filter((id) => busy.done.has(id))).toHaveLength(8), {
      timeoutMs: 30_000,
    });
    expect(busy.mostAtOnce).toBe(1);
    expect(ids.map((id) => busy.deliveries.get(id))).toEqual(ids.map(() => 1));
  });
});

/** Events whose handler fails after 1.5 times its consumer’s ack wait (given up at their 2nd delivery). */
const FAILS = 'fa11fa11';

@Injectable()
class LimitedSlots {
  @DurableConsumer({
    durable: 'limited',
    events: EVENTS,
    ackWaitMs: SLOW_ACK_WAIT_MS,
    concurrency: 2,
    maxDeliver: 2,
    retryBaseMs: 1,
    retryMaxMs: 1,
  })
  async onEvent(_event: EventOf<typeof EVENTS>, meta: EventMeta): Promise<void> {
    // Slow (about one and a half ack waits), then failing: the events behind it wait in the client past theirs.
    await progress.reported('limited', meta.streamSequence, 4);
    throw new Error('a fault of its own');
  }
}

describe('a durable consumer with a count of its own, whose events wait for its slots (real NATS JetStream)', () => {
  const suite = kitAppForSuite([LimitedSlots], 'callback-dispatcher');
  beforeAll(() => progress.watch(suite.nc, 'limited'));

  it('counts the copies the server sent while an event waited: a failing one is given up, said, not dropped unsaid', async () => {
    const ids = Array.from({ length: 6 }, () => `${FAILS}-${randomUUID().slice(9)}`);
    for (const probeId of ids) {
      await suite.nc
        .jetstream()
        .publish(SelfTestProbeRecorded.subject, encodeJson({ probeId, storedAt: new Date().toISOString() }));
    }
    const line = async (name: string, also = '') =>
      (await suite.app.get(MetricsService).render())
        .split('\n')
        .find((l) => l.startsWith(`${name}{`) && l.includes('consumer="limited"') && l.includes(also));
    const givenUp = () => line('maskline_events_given_up_total', 'code="EVENT.MAX_DELIVER"');
    await expectEventually(async () => expect(await givenUp()).toMatch(/ 6$/), {
      timeoutMs: 40_000,
    });
    // Copies were left to the events held (else this test shows nothing).
    expect(Number((await line('maskline_events_copies_left_total'))?.split(' ').pop())).toBeGreaterThan(0);
  });
});

/** Events whose handler never ends while the test holds it (a handler stuck on what it awaits). */
const STUCK = '57c57c57';

@Injectable()
class OneSlot {
  readonly handled = new Set<string>();
  private release: () => void = () => undefined;
  private readonly stuck = new Promise<void>((resolve) => (this.release = resolve));

  @DurableConsumer({ durable: 'one-slot', events: EVENTS, concurrency: 1 })
  async onEvent({ payload }: EventOf<typeof EVENTS>): Promise<void> {
    if (payload.probeId.startsWith(STUCK)) await this.stuck;
    this.handled.add(payload.probeId);
  }

  unstick(): void {
    this.release();
  }
}

describe('a durable consumer shutting down with its slots taken (real NATS JetStream)', () => {
  let nats: RunningProcess;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('stops within its grace, and leaves the events it had not started to the next replica at once', async () => {
    const first = await startKitApp(nats.url, [OneSlot], 'callback-dispatcher', { SHUTDOWN_GRACE_MS: 1000 });
    const publish = async (probeId: string) =>
      nc
        .jetstream()
        .publish(SelfTestProbeRecorded.subject, encodeJson({ probeId, storedAt: new Date().toISOString() }));
    const stuck = `${STUCK}-${randomUUID().slice(9)}`;
    await publish(stuck);
    const waiting = [randomUUID(), randomUUID()];
    for (const id of waiting) await publish(id);
    const consumer = async () =>
      (await nc.jetstreamManager()).consumers.info(STREAMS.MASKLINE_EVENTS.name, 'one-slot');
    // The stuck one holds the slot; another is delivered to this replica and waits for it.
    await expectEventually(async () => expect((await consumer()).num_ack_pending).toBe(2));
    await first.close();
    first.get(OneSlot).unstick();
    expect(waiting.some((id) => first.get(OneSlot).handled.has(id))).toBe(false);
    const second = await startKitApp(nats.url, [OneSlot], 'callback-dispatcher');
    try {
      // Handed back at shutdown: taken at once, well before their 30 s ack wait runs out.
      await expectEventually(
        () => expect(waiting.every((id) => second.get(OneSlot).handled.has(id))).toBe(true),
        {
          timeoutMs: 10_000,
        },
      );
    } finally {
      second.get(OneSlot).unstick();
      await second.close();
    }
  });
});
