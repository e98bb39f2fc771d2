import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import {
  PinAuthenticationStatus,
  PinErrorCodes,
  RegisterSessionPins,
  ReleaseSessionPins,
  RevealSessionPins,
  STREAMS,
  VerifyPin,
  type AccountScope,
  type RpcReplyOf,
} from '@maskline/contracts';
import { decodeJson } from '@maskline/messaging';
import {
  TestNatsClient,
  captureLogger,
  startServiceApp,
  testClock,
  startTestNats,
  testKey,
  testKeyring,
  testServiceConfig,
  testStoreUrl,
  uniqueDbName,
  type CapturedLogs,
  type RunningProcess,
  expectEventually,
} from '@maskline/testing';
import { pinAuthConfigSchema, type PinAuthConfig } from './config/pin-auth.config';
import { PinAuthModule } from './pin-auth.module';
import { LivePinRegistryStore } from './registration/live-pin-registry.store';
import { PinThrottle } from './throttling/pin-throttle';
import { BackgroundWork } from './background/background-work';

const SCOPE: AccountScope = { accountId: 'MAPINPINPINPINPINPI1' };
let seq = 0;
const vn = () => `+1415555${String(3000 + seq++).padStart(4, '0')}`;

describe('pin-auth (real NATS + store)', () => {
  let nats: RunningProcess;
  let client: TestNatsClient;
  let logs: CapturedLogs;
  let apps: INestApplicationContext[] = [];
  let db: Connection;
  const keys = { PIN_DIGEST_KEY: testKey(), PIN_ENCRYPTION_KEYS: testKeyring() };
  const dbName = uniqueDbName('pin');
  const clock = testClock();

  const config = (overrides: Partial<Record<keyof PinAuthConfig, unknown>> = {}) =>
    pinAuthConfigSchema.parse({
      ...testServiceConfig(nats.url),
      MONGO_URL: testStoreUrl(),
      MONGO_DB: dbName,
      ...keys,
      CALLER_LOCKOUT_SECONDS: '2',
      NUMBER_LOCKOUT_SECONDS: '2',
      ...overrides,
    });

  beforeAll(async () => {
    nats = await startTestNats();
    logs = captureLogger('pin-auth', 'trace');
    apps = [
      await startServiceApp(PinAuthModule.forRoot(config(), { logger: logs.logger }), { clock: clock.now }),
      await startServiceApp(PinAuthModule.forRoot(config(), { logger: logs.logger }), { clock: clock.now }),
    ];
    db = apps[0].get<Connection>(getConnectionToken());
    client = await TestNatsClient.connect(nats.url);
  });

  afterAll(async () => {
    await client?.close();
    for (const app of apps) await app.close();
    await nats?.stop();
  });

  const register = (
    virtualNumber: string,
    pins: { mode: 'supplied'; first: string; second: string } | { mode: 'generated'; length: number },
    sessionId = randomUUID(),
    scope = SCOPE,
  ) => client.request(RegisterSessionPins, { scope, sessionId, virtualNumber, pins });
  const verify = (
    virtualNumber: string,
    digits: string,
    caller: string,
    opts: {
      attempt?: number;
      registered?: boolean;
      callId?: string;
      accountId?: string;
      subaccountId?: string;
      onlySessions?: string[];
    } = {},
  ) =>
    client.request(VerifyPin, {
      accountId: opts.accountId ?? SCOPE.accountId,
      ...(opts.subaccountId ? { subaccountId: opts.subaccountId } : {}),
      virtualNumber,
      digits,
      callerNumber: caller,
      callerRegistered: opts.registered ?? false,
      callId: opts.callId ?? randomUUID(),
      attempt: opts.attempt ?? 1,
      maxAttempts: 2,
      ...(opts.onlySessions ? { onlySessions: opts.onlySessions } : {}),
    });

  it('runs a whole PIN flow without a PIN in any log line or in the store', async () => {
    const v = vn();
    const supplied = { first: '482917356', second: '9081726354' };
    const sessionA = randomUUID();
    await register(v, { mode: 'supplied', ...supplied }, sessionA);
    const sessionB = randomUUID();
    const generated = await register(v, { mode: 'generated', length: 8 }, sessionB);
    expect(generated.first).toMatch(/^\d{8}$/);

    expect(await verify(v, supplied.second, '+14155559001')).toMatchObject({
      outcome: 'match',
      sessionId: sessionA,
      party: 'second',
    });
    expect(await verify(v, generated.first, '+14155559002')).toMatchObject({
      outcome: 'match',
      sessionId: sessionB,
      party: 'first',
    });
    expect(await verify(v, '11223344', '+14155559003')).toEqual({
      outcome: 'mismatch',
      remainingAttempts: 1,
    });
    expect(await client.request(RevealSessionPins, { scope: SCOPE, sessionId: sessionB })).toEqual(generated);
    expect(await client.request(ReleaseSessionPins, { scope: SCOPE, sessionId: sessionA })).toEqual({
      released: 2,
    });
    expect(await verify(v, supplied.second, '+14155559004')).toMatchObject({ outcome: 'mismatch' });
    // Released PINs leave the store at once, sealed copy and all.
    expect(await db.collection('pin_registrations').countDocuments({ sessionId: sessionA })).toBe(0);

    const pins = [supplied.first, supplied.second, generated.first, generated.second];
    expect(logs.lines.length).toBeGreaterThan(5);
    for (const line of logs.lines) for (const pin of pins) expect(line).not.toContain(pin);
    const dump = JSON.stringify(await db.collection('pin_registrations').find({}).toArray());
    for (const pin of pins) expect(dump).not.toContain(pin);
  });

  it('retires a record a late store write left live without its KV entry, and nothing else', async () => {
    const v = vn();
    const session = randomUUID();
    const pins = await register(v, { mode: 'supplied', first: '60417', second: '60418' }, session);
    const records = db.collection<{ _id: string; liveMarker: string; digest: string; slot: number }>(
      'pin_registrations',
    );
    const [kept] = await records.find({ sessionId: session, party: 'first' }).toArray();
    // What an insert the store carried out after its registration had given up and taken its KV
    // entry back looks like: a live record whose digest KV does not hold.
    const strayId = randomUUID();
    // A slot past the number's capacity: no live registration can hold it.
    await records.insertOne({ ...kept, _id: strayId, digest: 'f'.repeat(64), slot: 10 ** 6 });

    const sweeper = apps[1].get(LivePinRegistryStore);
    // The first sweep only suspects it (a release may be between its KV delete and its retire).
    expect(await sweeper.retireStrays(new Date())).toBe(0);
    expect((await records.findOne({ _id: strayId }))?.liveMarker).toBe('L');
    expect(await sweeper.retireStrays(new Date())).toBe(1);
    expect(await records.findOne({ _id: strayId })).toBeNull();
    expect(await records.countDocuments({ sessionId: session, liveMarker: 'L' })).toBe(2);
    expect(await verify(v, pins.first, '+14155559011')).toMatchObject({
      outcome: 'match',
      sessionId: session,
    });
    expect(await sweeper.retireStrays(new Date())).toBe(0);
  });

  it('records, on a retried registration, entries KV holds without records; deletes an entry no record backs once found so for 10 minutes, and nothing else', async () => {
    const records = db.collection<{ _id: string; sessionId: string; liveMarker: string }>(
      'pin_registrations',
    );
    const sweeper = apps[1].get(LivePinRegistryStore);
    const caller = '+14155559021';
    const later = (minutes: number) => new Date(Date.now() + minutes * 60_000);

    // A first attempt that wrote KV and stopped before its records (its take-back failed too),
    // noted by a sweep meanwhile: the retry answers with the same PINs and records them, and the
    // sweep that noted the entry does not delete it 11 minutes on (the retry wrote it again).
    const v1 = vn();
    const retried = randomUUID();
    const pins = { mode: 'supplied' as const, first: '70411', second: '70412' };
    expect(await register(v1, pins, retried)).toEqual({ first: '70411', second: '70412' });
    await records.deleteMany({ sessionId: retried });
    await sweeper.retireStrays(new Date());
    expect(await register(v1, pins, retried)).toEqual({ first: '70411', second: '70412' });
    expect(await records.countDocuments({ sessionId: retried, liveMarker: 'L' })).toBe(2);

    // A KV create that landed after its registration gave up (the session gave its PINs up): an
    // entry no record backs. Found so for less than 10 minutes, it is left alone.
    const v2 = vn();
    const stray = randomUUID();
    await register(v2, { mode: 'supplied', first: '70421', second: '70422' }, stray);
    await records.deleteMany({ sessionId: stray });
    await sweeper.retireStrays(new Date());
    await sweeper.retireStrays(later(5));
    expect(await verify(v2, '70421', caller)).toMatchObject({ outcome: 'match', sessionId: stray });

    // Found so for 10 minutes: deleted; that PIN no longer verifies. The recorded ones do.
    await sweeper.retireStrays(later(11));
    await expectEventually(async () => {
      expect(await verify(v2, '70421', caller, { callId: randomUUID() })).toMatchObject({
        outcome: 'mismatch',
      });
    });
    expect(await verify(v1, '70412', caller)).toMatchObject({ outcome: 'match', sessionId: retried });
    expect(await client.request(ReleaseSessionPins, { scope: SCOPE, sessionId: retried })).toEqual({
      released: 2,
    });
  });

  it('keeps PINs unique per number, refuses a clash, and keeps the density cap', async () => {
    const v = vn();
    await register(v, { mode: 'supplied', first: '4829', second: '7316' });
    await expect(register(v, { mode: 'supplied', first: '7316', second: '5551' })).rejects.toMatchObject({
      code: PinErrorCodes.CONFLICT,
      field: 'first_party_pin',
    });
    // Default cap 1%: 100 live 4-digit PINs per number; 2 are used, 49 more sessions fit, the 50th does not.
    for (let i = 0; i < 49; i++) await register(v, { mode: 'generated', length: 4 });
    await expect(register(v, { mode: 'generated', length: 4 })).rejects.toMatchObject({
      code: PinErrorCodes.CAPACITY,
    });
    const live = await db
      .collection('pin_registrations')
      .countDocuments({ virtualNumber: v, pinLength: 4, liveMarker: 'L' });
    expect(live).toBe(100);
  });

  it('stops a call after its attempts, and locks a caller out across calls and replicas, with backoff', async () => {
    const v = vn();
    const pins = await register(v, { mode: 'generated', length: 6 });
    expect(await verify(v, '000001', '+14155559100', { attempt: 3 })).toEqual({
      outcome: 'locked',
      reason: 'call',
      retryAfterSeconds: 0,
    });

    const attacker = '+14155559101';
    for (let i = 0; i < 5; i++) expect((await verify(v, `31415${i}`, attacker)).outcome).toBe('mismatch');
    const locked = (await verify(v, pins.first, attacker)) as Extract<
      RpcReplyOf<typeof VerifyPin>,
      { outcome: 'locked' }
    >;
    expect(locked).toMatchObject({ outcome: 'locked', reason: 'caller' });
    expect(locked.retryAfterSeconds).toBeLessThanOrEqual(2);
    clock.advance(locked.retryAfterSeconds * 1000 + 1);
    expect(await verify(v, pins.first, attacker)).toMatchObject({ outcome: 'match' });
    for (let i = 0; i < 5; i++) await verify(v, `27182${i}`, attacker);
    const again = (await verify(v, pins.first, attacker)) as Extract<
      RpcReplyOf<typeof VerifyPin>,
      { outcome: 'locked' }
    >;
    expect(again.reason).toBe('caller');
    expect(again.retryAfterSeconds).toBeGreaterThan(2);
  });

  it('locks a caller out of one account’s numbers only: another tenant’s wrong PINs from that phone lock nothing of this one', async () => {
    // A tenant signs webhooks for its own numbers with any caller number it likes.
    const other: AccountScope = { accountId: 'MAPINPINPINPINPINPI2' };
    const [mine, theirs] = [vn(), vn()];
    const pins = await register(mine, { mode: 'generated', length: 6 });
    await register(theirs, { mode: 'generated', length: 6 }, randomUUID(), other);
    const phone = '+14155559111';
    for (let i = 0; i < 5; i++)
      expect((await verify(theirs, `16180${i}`, phone, { accountId: other.accountId })).outcome).toBe(
        'mismatch',
      );
    expect(await verify(theirs, '161809', phone, { accountId: other.accountId })).toMatchObject({
      outcome: 'locked',
      reason: 'caller',
    });
    expect(await verify(mine, pins.first, phone)).toMatchObject({ outcome: 'match', party: 'first' });
    // The lockout's record names the account whose numbers it closes.
    await expectEventually(async () =>
      expect(
        await db
          .collection('pin_lockouts')
          .findOne({ kind: 'caller', key: phone }, { projection: { _id: 0 } }),
      ).toMatchObject({ accountId: other.accountId }),
    );
  });

  it('locks a caller out of one subaccount’s numbers only: a subaccount’s wrong PINs from a phone lock it out of none of its siblings’ or its main account’s', async () => {
    const [sub, sibling] = ['SAPINPINPINPINPINPI1', 'SAPINPINPINPINPINPI2'];
    const [subs, siblings, mains] = [vn(), vn(), vn()];
    await register(subs, { mode: 'generated', length: 6 }, randomUUID(), { ...SCOPE, subaccountId: sub });
    const theirs = await register(siblings, { mode: 'generated', length: 6 }, randomUUID(), {
      ...SCOPE,
      subaccountId: sibling,
    });
    const own = await register(mains, { mode: 'generated', length: 6 });
    const phone = '+14155559112';
    // The number's bar (unknown callers) is not what is tested here: the phone passes as registered.
    for (let i = 0; i < 5; i++)
      expect((await verify(subs, `27180${i}`, phone, { subaccountId: sub, registered: true })).outcome).toBe(
        'mismatch',
      );
    expect(await verify(subs, '271809', phone, { subaccountId: sub, registered: true })).toMatchObject({
      outcome: 'locked',
      reason: 'caller',
    });
    expect(await verify(siblings, theirs.first, phone, { subaccountId: sibling })).toMatchObject({
      outcome: 'match',
    });
    expect(await verify(mains, own.first, phone)).toMatchObject({ outcome: 'match' });
    // The lockout's record names the subaccount whose numbers it closes.
    await expectEventually(async () =>
      expect(
        await db
          .collection('pin_lockouts')
          .findOne({ kind: 'caller', key: phone }, { projection: { _id: 0 } }),
      ).toMatchObject({ accountId: SCOPE.accountId, subaccountId: sub }),
    );
  });

  it('keeps no store record of a wrong PIN (its caller’s number), and purges the records past the horizon', async () => {
    const v = vn();
    await register(v, { mode: 'generated', length: 6 });
    const caller = '+14155559113';
    expect((await verify(v, '000001', caller)).outcome).toBe('mismatch');
    // Whatever the replicas write after a reply (records, announcements), written by now.
    await expectEventually(() => expect(apps.map((a) => a.get(BackgroundWork).inFlight)).toEqual([0, 0]));
    expect(await db.collection('pin_failures').countDocuments({ callerNumber: caller })).toBe(0);
    // What an earlier release wrote, and lockouts long over: 2,500 of each, two days old.
    const old = new Date(clock.now() - 2 * 86400_000);
    await db.collection('pin_failures').insertMany(
      Array.from({ length: 2500 }, (_, i) => ({
        _id: `old-failure-${i}` as never,
        accountId: SCOPE.accountId,
        virtualNumber: v,
        callerNumber: caller,
        callerRegistered: false,
        callId: `call-${i}`,
        at: old,
      })),
    );
    await db.collection('pin_lockouts').insertMany(
      Array.from({ length: 2500 }, (_, i) => ({
        _id: `old-lockout-${i}` as never,
        kind: 'caller',
        accountId: SCOPE.accountId,
        subaccountId: null,
        key: caller,
        level: 1,
        from: old,
        until: old,
      })),
    );
    await apps[0].get(PinThrottle).purge(new Date(clock.now()));
    expect(await db.collection('pin_failures').countDocuments({ callerNumber: caller })).toBe(0);
    expect(await db.collection('pin_lockouts').countDocuments({ key: caller })).toBe(0);
  });

  it('keeps a number’s bar for unknown callers with its account: the account that takes the number over starts with none of it', async () => {
    const other: AccountScope = { accountId: 'MAPINPINPINPINPINPI3' };
    const taken = vn();
    await register(taken, { mode: 'generated', length: 6 }, randomUUID(), other);
    // A squatter's unknown callers close PIN entry on the number for its account…
    for (let i = 0; i < 10; i++)
      await verify(taken, `31415${i}`, `+1415555920${i}`, { accountId: other.accountId });
    expect(await verify(taken, '314159', '+14155559219', { accountId: other.accountId })).toMatchObject({
      outcome: 'locked',
      reason: 'number',
    });
    // …not for the account that holds it next.
    const pins = await register(taken, { mode: 'generated', length: 6 });
    expect(await verify(taken, pins.first, '+14155559219')).toMatchObject({ outcome: 'match' });
  });

  it('announces outcomes as durable SessionPinAuthenticationStatus events', async () => {
    const v = vn();
    const sessionId = randomUUID();
    const pins = await register(v, { mode: 'generated', length: 6 }, sessionId);
    const callId = randomUUID();
    await verify(v, '999999', '+14155559200', { callId, attempt: 1 });
    await verify(v, pins.second, '+14155559200', { callId, attempt: 2 });
    const jsm = await client.nc.jetstreamManager();
    // Outcome events are published after the reply, not before it: wait for both.
    await expectEventually(async () => {
      const info = await jsm.streams.info(STREAMS.MASKLINE_EVENTS.name);
      const events = [];
      for (let s = info.state.first_seq; s <= info.state.last_seq; s++) {
        const m = await jsm.streams.getMessage(STREAMS.MASKLINE_EVENTS.name, { seq: s });
        if (m.subject === PinAuthenticationStatus.subject)
          events.push(decodeJson(m.data) as { callId: string; status: string });
      }
      const mine = events.filter((e) => e.callId === callId);
      // Each is published on its own: they may be stored in either order.
      expect(mine.sort((a, b) => a.status.localeCompare(b.status))).toEqual([
        expect.objectContaining({ status: 'failed', retryCounter: 1, sessionId: null, virtualNumber: v }),
        expect.objectContaining({ status: 'success', retryCounter: 1, sessionId }),
      ]);
    });
  });

  describe('brute force against a number with 100 live PIN sessions', () => {
    let attackApps: INestApplicationContext[] = [];
    const NUMBER_MAX_FAILURES = 10;

    beforeAll(async () => {
      // A separate pair of replicas with the production-like per-number bar and long lockouts (the
      // 2 s lockouts of the other tests would end mid-attack on a slow machine and open a new budget).
      const attackConfig = () =>
        config({
          MONGO_DB: `${dbName}_attack`,
          NUMBER_MAX_FAILURES: String(NUMBER_MAX_FAILURES),
          NUMBER_LOCKOUT_SECONDS: '3600',
          CALLER_LOCKOUT_SECONDS: '3600',
        });
      attackApps = [
        await startServiceApp(PinAuthModule.forRoot(attackConfig())),
        await startServiceApp(PinAuthModule.forRoot(attackConfig())),
      ];
      for (const app of apps) await app.close();
      apps = [];
    });

    afterAll(async () => {
      for (const app of attackApps) await app.close();
    });

    it('lets through no more guesses than the limits promise, and never locks out registered callers', async () => {
      const v = vn();
      const sessions: Array<{ sessionId: string; first: string; second: string }> = [];
      for (let i = 0; i < 100; i++) {
        const sessionId = randomUUID();
        sessions.push({ sessionId, ...(await register(v, { mode: 'generated', length: 6 }, sessionId)) });
      }
      const livePins = new Set(sessions.flatMap((s) => [s.first, s.second]));
      const outcomes = { match: 0, mismatch: 0, locked: 0 };
      let guess = 0;
      for (let wave = 0; wave < 20; wave++) {
        const batch = Array.from({ length: 10 }, (_, i) => {
          const caller = `+1646555${String(1000 + wave * 10 + i)}`;
          // Guesses that are no live PIN: a random PIN equal to a fixed guess (p ≈ 20 × 200 / 10^6 a
          // run) would be a correct guess, not a leak, and made this test fail once in CI.
          let digits = String((guess++ * 7919) % 1_000_000).padStart(6, '0');
          while (livePins.has(digits)) digits = String((guess++ * 7919) % 1_000_000).padStart(6, '0');
          return verify(v, digits, caller, { attempt: 1 }).then((r) => {
            outcomes[r.outcome]++;
            if (r.outcome === 'match' && !livePins.has(digits)) throw new Error('a non-PIN matched');
          });
        });
        await Promise.all(batch);
      }
      const evaluated = outcomes.match + outcomes.mismatch;
      // The number-wide bar closes PIN entry to unknown callers after NUMBER_MAX_FAILURES failures;
      // only guesses already in flight (one wave of 10, across 2 replicas) can slip past it.
      expect(evaluated).toBeLessThanOrEqual(NUMBER_MAX_FAILURES + 10);
      expect(outcomes.locked).toBeGreaterThanOrEqual(200 - evaluated);
      // No guess is a live PIN, so none may match.
      expect(outcomes.match).toBe(0);

      const legit = sessions[42];
      expect(await verify(v, legit.first, '+14155550042', { registered: true })).toMatchObject({
        outcome: 'match',
        sessionId: legit.sessionId,
      });
      expect(await verify(v, legit.second, '+14155559999', { registered: false })).toMatchObject({
        outcome: 'locked',
        reason: 'number',
      });
    });

    it('checks a registered caller’s digits against its own sessions alone: another session’s PIN is a wrong PIN, counted against its own bar', async () => {
      const v = vn();
      const mineId = randomUUID();
      const own = await register(v, { mode: 'generated', length: 6 }, mineId);
      const theirs = await register(v, { mode: 'generated', length: 6 }, randomUUID());
      const party = '+14155550045';
      // A party of a forced-PIN session typing another session's PIN (a guess, or a good one): no match.
      expect(
        await verify(v, theirs.first, party, { registered: true, onlySessions: [mineId] }),
      ).toMatchObject({
        outcome: 'mismatch',
      });
      // Its own PIN still lets it in; an unknown caller's digits are checked against every session.
      expect(await verify(v, own.second, party, { registered: true, onlySessions: [mineId] })).toMatchObject({
        outcome: 'match',
        sessionId: mineId,
        party: 'second',
      });
      expect(await verify(v, theirs.first, '+14155559997')).toMatchObject({ outcome: 'match' });
      // Its guesses at others' PINs spend its own bar (5 wrong PINs), as any caller's wrong PINs do.
      for (let i = 0; i < 4; i++) {
        expect(
          await verify(v, theirs.second, party, { registered: true, onlySessions: [mineId] }),
        ).toMatchObject({ outcome: 'mismatch' });
      }
      await expectEventually(async () =>
        expect(
          await verify(v, own.second, party, { registered: true, onlySessions: [mineId] }),
        ).toMatchObject({ outcome: 'locked', reason: 'caller' }),
      );
    });
  });
});
