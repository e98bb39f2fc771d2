import type { INestApplicationContext } from '@nestjs/common';
import { connect, type NatsConnection } from 'nats';
import { CodedError, ErrorCodes, VirtualNumberChanged } from '@maskline/contracts';
import { expectEventually, startKitApp, startTestNats, type RunningProcess } from '@maskline/testing';
import { encodeJson } from './json-codec';
import { NumberRoutingCache, type NumberRouting } from './number-routing.cache';
import { RpcClient } from './rpc-client';

const ADDED = '+14155550901';
/** A number whose cached routing, forgotten, tells that the changes before it were heard. */
const MARKER = '+14155550902';
const ACCOUNT = `MA${'B'.repeat(18)}`;

const routingOf = (number: string) =>
  ({ number, accountId: ACCOUNT, provider: 'plivo' }) as unknown as NumberRouting;

/** number-pool as the cache asks it: answers held until the test lets them go. */
class Pool {
  readonly asked: string[] = [];
  /** Requests being answered now, and the most at once. */
  inFlight = 0;
  mostInFlight = 0;
  /** Numbers in the inventory. */
  readonly held = new Set<string>([MARKER]);
  private readonly gates: Array<() => void> = [];
  /** While true, each answer waits for `release()`. */
  holding = false;

  async request(_contract: unknown, { number }: { number: string }): Promise<NumberRouting> {
    this.asked.push(number);
    this.mostInFlight = Math.max(this.mostInFlight, ++this.inFlight);
    try {
      const known = this.held.has(number);
      if (this.holding) await new Promise<void>((r) => this.gates.push(r));
      if (!known) throw new CodedError(ErrorCodes.NOT_FOUND, 'no such number');
      return routingOf(number);
    } finally {
      this.inFlight--;
    }
  }

  release(): void {
    for (const go of this.gates.splice(0)) go();
  }
}

describe('the number routing cache (real NATS)', () => {
  let nats: RunningProcess;
  let nc: NatsConnection;
  let app: INestApplicationContext;
  const pool = new Pool();

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
    app = await startKitApp(
      nats.url,
      [NumberRoutingCache, { provide: RpcClient, useValue: pool }],
      'gateway',
    );
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await nats?.stop();
  });

  it('does not keep a number added while it was being looked up as unknown: the next look asks again', async () => {
    const cache = app.get(NumberRoutingCache);
    expect(await cache.get(MARKER)).toMatchObject({ number: MARKER });

    // Looked up while it is in no inventory; added (and announced) before the answer arrives.
    pool.holding = true;
    const first = cache.get(ADDED);
    await expectEventually(() => expect(pool.asked).toContain(ADDED));
    pool.held.add(ADDED);
    const js = nc.jetstream();
    const at = new Date().toISOString();
    for (const number of [ADDED, MARKER]) {
      await js.publish(VirtualNumberChanged.subject, encodeJson({ accountId: ACCOUNT, number, at }));
    }
    // The marker's change heard (it is asked for again), so the added number's, before it, too.
    pool.holding = false;
    await expectEventually(async () => {
      await cache.get(MARKER);
      expect(pool.asked.filter((n) => n === MARKER)).toHaveLength(2);
    });
    pool.release();
    expect(await first).toBeNull(); // the answer as it was asked

    // Not remembered as unknown: asked again, and found.
    expect(await cache.get(ADDED)).toMatchObject({ number: ADDED });
    expect(pool.asked.filter((n) => n === ADDED)).toHaveLength(2);
  });

  it('remembers a number in no inventory for a while: a flood of made-up numbers asks once each', async () => {
    const cache = app.get(NumberRoutingCache);
    const unknown = '+14155550903';
    for (let i = 0; i < 5; i++) expect(await cache.get(unknown)).toBeNull();
    expect(pool.asked.filter((n) => n === unknown)).toHaveLength(1);
  });

  it('asks number-pool for at most 16 numbers at a time for requests not yet authenticated, whatever their number; a known number does not wait', async () => {
    const cache = app.get(NumberRoutingCache);
    expect(await cache.get(MARKER)).toMatchObject({ number: MARKER });
    const before = pool.asked.length;
    pool.mostInFlight = 0;
    pool.holding = true;
    // A flood of webhooks naming made-up numbers, all at once.
    const flood = Array.from({ length: 40 }, (_, i) =>
      cache.get(`+1415556${String(1000 + i)}`, { unauthenticated: true }),
    );
    await expectEventually(() => expect(pool.asked.length - before).toBe(16));
    // The known number is answered from the cache meanwhile.
    await expect(cache.get(MARKER, { unauthenticated: true })).resolves.toMatchObject({ number: MARKER });
    expect(pool.asked.length - before).toBe(16);
    // A real number not cached: a request not yet authenticated waits its turn behind the flood, and an
    // authenticated one (a follow-up with Maskline's context, the API) is asked at once, not behind it.
    const real = '+14155550904';
    pool.held.add(real);
    const waiting = cache.get(real, { unauthenticated: true });
    const authenticated = cache.get(real);
    await expectEventually(() => expect(pool.asked.slice(before)).toContain(real));
    expect(pool.asked.length - before).toBe(17);
    // As answers come, the others are asked in turn, never more than 16 at a time.
    pool.holding = false;
    pool.release();
    await expect(Promise.all(flood)).resolves.toEqual(flood.map(() => null));
    await expect(authenticated).resolves.toMatchObject({ number: real });
    await expect(waiting).resolves.toMatchObject({ number: real });
    expect(pool.asked.filter((n) => n !== real)).toHaveLength(before + 40);
    // The flood's 16 and the authenticated ask at most, at any moment, the drain included.
    expect(pool.mostInFlight).toBe(17);
  });
});
