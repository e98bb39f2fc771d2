import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { SessionErrorCodes } from '@maskline/contracts';
import { connect } from 'nats';
import pino from 'pino';
import { KeyValueStores, kvEncode, type MessagingOptions } from '@maskline/messaging';
import {
  expectEventually,
  startServiceApp,
  startTestNats,
  testKey,
  testServiceConfig,
  testStoreUrl,
  uniqueDbName,
  type RunningProcess,
} from '@maskline/testing';
import { sessionServiceConfigSchema, type SessionServiceConfig } from '../config/session-service.config';
import { SessionServiceModule } from '../session-service.module';
import { IdempotencyKeyDocument } from './idempotency-key.schema';
import { IdempotencyKeys, UPGRADES_BUCKET } from './idempotency-keys';
import { StoredIdempotencyKeys } from './stored-idempotency-keys';

const MAIN = { accountId: 'MAIDEMPOTENT00000001' };
const SUB = { accountId: MAIN.accountId, subaccountId: 'SAIDEMPOTENT00000001' };
const OTHER = { accountId: 'MAIDEMPOTENT00000002' };
const DAY = 86_400_000;
const body = (c: string) => ({ requestHash: c.repeat(64) });

describe('Idempotency-Keys in NATS KV (real NATS + store)', () => {
  let nats: RunningProcess;
  let app: INestApplicationContext;
  let config: SessionServiceConfig;
  let stored: Model<IdempotencyKeyDocument>;

  beforeAll(async () => {
    nats = await startTestNats();
    config = sessionServiceConfigSchema.parse({
      ...testServiceConfig(nats.url),
      MONGO_URL: testStoreUrl(),
      MONGO_DB: uniqueDbName('idempotency'),
      PARTY_REDACTION_KEY: testKey(),
    });
    app = await startServiceApp(SessionServiceModule.forRoot(config));
    stored = app.get(getModelToken(IdempotencyKeyDocument.name));
  });

  afterAll(async () => {
    await app?.close();
    await nats?.stop();
  });

  /** Another replica's keys: its own process state, the same bucket and store. */
  const replica = () => new IdempotencyKeys(app.get(KeyValueStores), app.get(StoredIdempotencyKeys), config);
  const fresh = () => ({ key: `order-${randomUUID()}` });

  it('gives a retry the session the first request made, and refuses another body under the key', async () => {
    const keys = app.get(IdempotencyKeys);
    const { key } = fresh();
    expect(await keys.claim(MAIN, { key, ...body('a') }, 's1')).toEqual({ kind: 'new', sessionId: 's1' });
    const again = await replica().claim(MAIN, { key, ...body('a') }, 's2');
    expect(again).toMatchObject({ kind: 'existing', sessionId: 's1' });
    expect(again.kind === 'existing' && Date.now() - again.claimedAt.getTime()).toBeLessThan(60_000);
    await expect(keys.claim(MAIN, { key, ...body('b') }, 's3')).rejects.toMatchObject({
      code: SessionErrorCodes.IDEMPOTENCY_MISMATCH,
    });
  });

  it('lets exactly one of many racing requests with one key claim it; the others get its session', async () => {
    const { key } = fresh();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => replica().claim(MAIN, { key, ...body('a') }, `s${i}`)),
    );
    const won = results.filter((r) => r.kind === 'new');
    expect(won).toHaveLength(1);
    for (const r of results) expect(r.sessionId).toBe(won[0]!.sessionId);
  });

  it("keeps a subaccount's keys its own, and never frees another account's", async () => {
    const keys = app.get(IdempotencyKeys);
    const { key } = fresh();
    await keys.claim(MAIN, { key, ...body('a') }, 's1');
    expect(await keys.claim(SUB, { key, ...body('a') }, 's2')).toEqual({ kind: 'new', sessionId: 's2' });
    await keys.forget(OTHER, key, 's1');
    expect(await keys.claim(MAIN, { key, ...body('a') }, 's3')).toMatchObject({
      kind: 'existing',
      sessionId: 's1',
    });
  });

  it("frees a key only for the creation that holds it: a late failure leaves a retry's new claim alone", async () => {
    const keys = app.get(IdempotencyKeys);
    const { key } = fresh();
    await keys.claim(MAIN, { key, ...body('a') }, 's1');
    await keys.forget(MAIN, key, 's1'); // the retry found s1's creation dead and freed the key
    expect(await keys.claim(MAIN, { key, ...body('a') }, 's2')).toEqual({ kind: 'new', sessionId: 's2' });
    await keys.forget(MAIN, key, 's1'); // s1's creation fails at last
    expect(await keys.claim(MAIN, { key, ...body('a') }, 's3')).toMatchObject({
      kind: 'existing',
      sessionId: 's2',
    });
  });

  it('counts a key older than IDEMPOTENCY_RETENTION_MS as free (the setting shortened since it was claimed)', async () => {
    const keys = app.get(IdempotencyKeys);
    const { key } = fresh();
    await keys.claim(MAIN, { key, ...body('a') }, 's1');
    const later = Date.now() + config.IDEMPOTENCY_RETENTION_MS + 1000;
    expect(await keys.claim(MAIN, { key, ...body('b') }, 's2', later)).toEqual({
      kind: 'new',
      sessionId: 's2',
    });
  });

  it("honours an earlier version's key in the store (a rolling upgrade), release 0.1.0's too, and frees it there", async () => {
    const keys = replica();
    const [key, old] = [fresh().key, fresh().key];
    await stored.collection.insertOne({
      _id: `${MAIN.accountId}:${key}`,
      accountId: MAIN.accountId,
      requestHash: 'a'.repeat(64),
      sessionId: 'from-the-store',
      createdAt: new Date(),
    } as never);
    await stored.collection.insertOne({
      _id: `${MAIN.accountId}:${old}`,
      requestHash: 'a'.repeat(64),
      sessionId: 'from-0.1.0',
    } as never);
    expect(await keys.claim(MAIN, { key, ...body('a') }, 's1')).toMatchObject({
      kind: 'existing',
      sessionId: 'from-the-store',
    });
    // Another account's request under the same client key is its own.
    expect(await keys.claim(OTHER, { key, ...body('a') }, 's2')).toEqual({ kind: 'new', sessionId: 's2' });
    expect(await keys.claim(MAIN, { key: old, ...body('a') }, 's3')).toMatchObject({
      kind: 'existing',
      sessionId: 'from-0.1.0',
      claimedAt: new Date(0),
    });
    await keys.forget(MAIN, old, 'from-0.1.0');
    expect(await stored.collection.countDocuments({ _id: `${MAIN.accountId}:${old}` } as never)).toBe(0);
    expect(await keys.claim(MAIN, { key: old, ...body('a') }, 's4')).toEqual({
      kind: 'new',
      sessionId: 's4',
    });
  });

  it('stops reading the store for good once it has held no keys for 10 minutes, across replicas', async () => {
    await stored.deleteMany({});
    const upgrades = await app.get(KeyValueStores).bucket(UPGRADES_BUCKET);
    await upgrades.put('idempotency-store-keys.none-since', kvEncode(Date.now() - 11 * 60_000));
    const keys = replica();
    const { key } = fresh();
    await keys.claim(MAIN, { key: fresh().key, ...body('a') }, 'first'); // its look starts here
    // An earlier version's key showing up now is no longer looked for: the store is not read.
    await stored.collection.insertOne({
      _id: `${MAIN.accountId}:${key}`,
      accountId: MAIN.accountId,
      requestHash: 'a'.repeat(64),
      sessionId: 'too-late',
      createdAt: new Date(),
    } as never);
    await expectEventually(async () =>
      expect(await keys.claim(MAIN, { key, ...body('a') }, 'kv-only')).toEqual({
        kind: 'new',
        sessionId: 'kv-only',
      }),
    );
    // Before 10 minutes without keys, a replica still looks (and would honour it).
    await upgrades.put('idempotency-store-keys.none-since', kvEncode(Date.now()));
    const other = fresh().key;
    await stored.collection.insertOne({
      _id: `${MAIN.accountId}:${other}`,
      accountId: MAIN.accountId,
      requestHash: 'a'.repeat(64),
      sessionId: 'still-looked-for',
      createdAt: new Date(),
    } as never);
    expect(await replica().claim(MAIN, { key: other, ...body('a') }, 'x')).toMatchObject({
      kind: 'existing',
      sessionId: 'still-looked-for',
    });
  });

  it('keys live in KV for IDEMPOTENCY_RETENTION_MS, and a bucket made with another age takes the new one', async () => {
    const kv = await app.get(KeyValueStores).bucket('maskline-idempotency-keys');
    expect((await kv.status()).ttl).toBe(config.IDEMPOTENCY_RETENTION_MS);
    // The setting changed: a replica started with the new one gives the bucket its age.
    const shorter = { ...config, IDEMPOTENCY_RETENTION_MS: DAY / 2 };
    const nc = await connect({ servers: nats.url });
    const fresher = new KeyValueStores(
      nc,
      { service: 'session-service', servers: nats.url } as MessagingOptions,
      pino({ level: 'silent' }),
    );
    new IdempotencyKeys(fresher, app.get(StoredIdempotencyKeys), shorter);
    await fresher.onModuleInit();
    expect((await kv.status()).ttl).toBe(DAY / 2);
    await nc.close();
  });
});
