import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import mongoose from 'mongoose';
import { PinErrorCodes, type RpcParsedRequestOf, type VerifyPin } from '@maskline/contracts';
import {
  TestNatsClient,
  startServiceApp,
  startTestNats,
  testKey,
  testKeyring,
  testServiceConfig,
  testStoreUrl,
  uniqueDbName,
  type RunningProcess,
} from '@maskline/testing';
import { pinAuthConfigSchema } from './config/pin-auth.config';
import { PinAuthModule } from './pin-auth.module';
import { LivePinRegistryStore } from './registration/live-pin-registry.store';
import { LIVE_PINS_BUCKET } from './registration/live-pin-view';
import { PinRegistry, type PinRequest } from './registration/pin-registry';
import { PIN_THROTTLE_BUCKET, PinThrottle } from './throttling/pin-throttle';
import { PinVerifier } from './verification/pin-verifier';

const ACCOUNT = 'MAREPLICAREPLICAREP1';
let seq = 0;
const vn = () => `+1415666${String(1000 + seq++).padStart(4, '0')}`;
let callers = 0;
const freshCaller = () => `+1917555${String(1000 + callers++).padStart(4, '0')}`;

/** One pin-auth replica, driven directly (not through the queue group) so a test picks which one answers. */
class Replica {
  constructor(readonly app: INestApplicationContext) {}

  register(virtualNumber: string, pins: PinRequest, sessionId = randomUUID()) {
    return this.app.get(PinRegistry).register({ accountId: ACCOUNT, sessionId, virtualNumber, pins });
  }

  release(sessionId: string) {
    return this.app.get(PinRegistry).release(sessionId, ACCOUNT);
  }

  verify(
    virtualNumber: string,
    digits: string,
    opts: { caller?: string; registered?: boolean; attempt?: number } = {},
  ) {
    const request: RpcParsedRequestOf<typeof VerifyPin> = {
      accountId: ACCOUNT,
      virtualNumber,
      digits,
      callerNumber: opts.caller ?? freshCaller(),
      callerRegistered: opts.registered ?? false,
      callId: randomUUID(),
      attempt: opts.attempt ?? 1,
      maxAttempts: 3,
    };
    return this.app.get(PinVerifier).verify(request);
  }

  /** Resolves once this replica's copies hold every write made to the buckets so far. */
  seen(revisions: { pins: number; throttle: number }) {
    return Promise.all([
      this.app.get(LivePinRegistryStore).view.mirror.until(revisions.pins),
      this.app.get(PinThrottle).mirror.until(revisions.throttle),
    ]);
  }
}

describe('pin-auth replicas sharing live state in NATS KV (real NATS + store)', () => {
  let nats: RunningProcess;
  let client: TestNatsClient;
  const apps: INestApplicationContext[] = [];
  let a: Replica;
  let b: Replica;
  const keys = { PIN_DIGEST_KEY: testKey(), PIN_ENCRYPTION_KEYS: testKeyring() };
  const dbName = uniqueDbName('pinrep');

  const start = async () => {
    const config = pinAuthConfigSchema.parse({
      ...testServiceConfig(nats.url),
      MONGO_URL: testStoreUrl(),
      MONGO_DB: dbName,
      ...keys,
      CALLER_LOCKOUT_SECONDS: '3600',
      NUMBER_LOCKOUT_SECONDS: '3600',
    });
    const app = await startServiceApp(PinAuthModule.forRoot(config));
    apps.push(app);
    return new Replica(app);
  };

  /** Where both buckets stand now (their streams' last sequence). */
  const written = async () => {
    const jsm = await client.nc.jetstreamManager();
    const last = async (bucket: string) => (await jsm.streams.info(`KV_${bucket}`)).state.last_seq;
    return { pins: await last(LIVE_PINS_BUCKET), throttle: await last(PIN_THROTTLE_BUCKET) };
  };
  /** Both replicas have applied every write made so far: a test's synchronisation point, not a sleep. */
  const settled = async (...replicas: Replica[]) => {
    const revisions = await written();
    await Promise.all(replicas.map((r) => r.seen(revisions)));
  };

  beforeAll(async () => {
    nats = await startTestNats();
    client = await TestNatsClient.connect(nats.url);
    a = await start();
    b = await start();
  });

  afterAll(async () => {
    await client?.close();
    for (const app of apps) await app.close();
    await nats?.stop();
  });

  it('verifies on one replica a PIN registered on the other, and settles a race for one PIN', async () => {
    const v = vn();
    const sessionId = randomUUID();
    const pins = await a.register(v, { mode: 'generated', length: 6 }, sessionId);
    await settled(b);
    expect(await b.verify(v, pins.second)).toEqual({
      outcome: 'match',
      accountId: ACCOUNT,
      sessionId,
      party: 'second',
    });

    // Two sessions asking both replicas for the same supplied PIN at once: exactly one gets it.
    const w = vn();
    const outcomes = await Promise.allSettled([
      a.register(w, { mode: 'supplied', first: '73195', second: '55555' }),
      b.register(w, { mode: 'supplied', first: '73195', second: '66666' }),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: PinErrorCodes.CONFLICT });
  });

  it('counts failures spread over both replicas in one count, and the lockout holds on both', async () => {
    const v = vn();
    const pins = await a.register(v, { mode: 'generated', length: 6 });
    await settled(b);
    const attacker = freshCaller();
    const replicas = [a, b, a, b, a];
    for (let i = 0; i < replicas.length; i++) {
      expect(await replicas[i].verify(v, `00000${i}`, { caller: attacker })).toMatchObject({
        outcome: 'mismatch',
      });
    }
    // The replica whose write reached the bar knows at once; the other once its copy has the write.
    expect(await a.verify(v, pins.first, { caller: attacker })).toMatchObject({
      outcome: 'locked',
      reason: 'caller',
    });
    await settled(b);
    expect(await b.verify(v, pins.first, { caller: attacker })).toMatchObject({
      outcome: 'locked',
      reason: 'caller',
    });
    // Another caller is not affected.
    expect(await b.verify(v, pins.first)).toMatchObject({ outcome: 'match' });
  });

  it('lets a burst fired at both replicas at once through for at most the bar on each', async () => {
    const v = vn();
    const pins = await a.register(v, { mode: 'generated', length: 6 });
    await settled(b);
    const attacker = freshCaller();
    const burst = Array.from({ length: 40 }, (_, i) =>
      (i % 2 ? a : b).verify(v, String(100000 + i), { caller: attacker }),
    );
    const outcomes = (await Promise.all(burst)).map((r) => r.outcome);
    const judged = outcomes.filter((o) => o === 'mismatch').length;
    // CALLER_MAX_FAILURES = 5 per replica at most, 2 replicas.
    expect(judged).toBeGreaterThanOrEqual(5);
    expect(judged).toBeLessThanOrEqual(10);
    await settled(a, b);
    for (const r of [a, b]) {
      expect(await r.verify(v, pins.first, { caller: attacker })).toMatchObject({ outcome: 'locked' });
    }
  });

  it('releases a PIN everywhere, and frees it for another session', async () => {
    const v = vn();
    const sessionId = randomUUID();
    await a.register(v, { mode: 'supplied', first: '246813', second: '135792' }, sessionId);
    await settled(b);
    expect(await b.verify(v, '246813')).toMatchObject({ outcome: 'match', sessionId });

    expect(await b.release(sessionId)).toBe(2);
    // The releasing replica stops at once; the other once its copy has the deletes.
    expect(await b.verify(v, '246813')).toMatchObject({ outcome: 'mismatch' });
    await settled(a);
    expect(await a.verify(v, '246813')).toMatchObject({ outcome: 'mismatch' });
    expect(await a.verify(v, '135792')).toMatchObject({ outcome: 'mismatch' });

    const next = randomUUID();
    await a.register(v, { mode: 'supplied', first: '246813', second: '975310' }, next);
    await settled(b);
    expect(await b.verify(v, '246813')).toMatchObject({ outcome: 'match', sessionId: next });
  });

  it('reveals and releases on one replica, at once, what the other just registered', async () => {
    for (let i = 0; i < 5; i++) {
      const v = vn();
      const sessionId = randomUUID();
      const pins = await a.register(v, { mode: 'generated', length: 6 }, sessionId);
      // No waiting: a saga compensating a failed step releases the moment registration answered.
      expect(await b.app.get(PinRegistry).revealSession(sessionId, ACCOUNT)).toEqual(pins);
      expect(await b.release(sessionId)).toBe(2);
      await settled(a);
      expect(await a.verify(v, pins.first)).toMatchObject({ outcome: 'mismatch' });
      expect(await b.verify(v, pins.second)).toMatchObject({ outcome: 'mismatch' });
    }
  });

  it('has a replica started later answer for every PIN and lockout from its first request', async () => {
    const v = vn();
    const sessions = [];
    for (let i = 0; i < 20; i++) {
      const sessionId = randomUUID();
      sessions.push({ sessionId, ...(await a.register(v, { mode: 'generated', length: 8 }, sessionId)) });
    }
    const attacker = freshCaller();
    for (let i = 0; i < 5; i++) await b.verify(v, `1234567${i}`, { caller: attacker });

    const late = await start();
    for (const s of sessions) {
      expect(await late.verify(v, s.first)).toMatchObject({ outcome: 'match', sessionId: s.sessionId });
    }
    expect(await late.verify(v, sessions[0].second, { caller: attacker })).toMatchObject({
      outcome: 'locked',
      reason: 'caller',
    });
  });

  it('reads no store collection to verify, on a match or a mismatch', async () => {
    const v = vn();
    const pins = await a.register(v, { mode: 'generated', length: 6 });
    await settled(b);
    const ops: string[] = [];
    mongoose.set('debug', (collection: string, method: string) => {
      ops.push(`${collection}.${method}`);
    });
    try {
      expect(await b.verify(v, pins.first)).toMatchObject({ outcome: 'match' });
      expect(await b.verify(v, '999999')).toMatchObject({ outcome: 'mismatch' });
      expect(await b.verify(v, pins.second, { registered: true })).toMatchObject({ outcome: 'match' });
    } finally {
      mongoose.set('debug', false);
    }
    // Only the failure's record may be written (after the reply); nothing is read.
    expect(ops.filter((op) => !op.endsWith('.insertOne'))).toEqual([]);
  });
});
