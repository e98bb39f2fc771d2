import pino from 'pino';
import { randomUUID } from 'node:crypto';
import { DEFAULT_NATS_MEMORY_BYTES, natsKeyBound, natsStorageBound } from '@maskline/contracts';
import { TEST_NATS_STORAGE_BYTES, kvReplicasForSuite } from '@maskline/testing';
import type { SessionServiceConfig } from '../config/session-service.config';
import { FINISHED_IDEMPOTENCY_BUCKET, FinishedIdempotencyKeys } from './finished-idempotency-keys';

const RETENTION_MS = 3_600_000;
const ACCOUNT = 'MAFFFFFFFFFFFFFFFFF1';

describe('finished Idempotency-Keys (real NATS KV)', () => {
  const replicas = kvReplicasForSuite('session-service');

  async function replica() {
    const { kv, nc } = await replicas.replica();
    const keys = new FinishedIdempotencyKeys(
      kv,
      { IDEMPOTENCY_RETENTION_MS: RETENTION_MS } as SessionServiceConfig,
      pino({ level: 'silent' }),
    );
    return { keys, kv, nc };
  }

  it('is read by every replica, per account, and keeps the client’s key out of the bucket’s keys', async () => {
    const [a, b] = [await replica(), await replica()];
    const keyId = `${ACCOUNT}:order 7/ünïcode ${randomUUID()}`;
    const finished = { requestHash: 'a'.repeat(64), sessionId: randomUUID(), claimedAt: Date.now() };
    expect(await b.keys.get(ACCOUNT, keyId)).toBeNull();
    await a.keys.remember(ACCOUNT, keyId, finished);
    expect(await b.keys.get(ACCOUNT, keyId)).toEqual(finished);
    // Another account's key of the same id is another entry.
    expect(await b.keys.get('MAFFFFFFFFFFFFFFFFF2', keyId)).toBeNull();

    const bucket = await a.kv.bucket(FINISHED_IDEMPOTENCY_BUCKET);
    const names: string[] = [];
    for await (const k of await bucket.keys()) names.push(k);
    expect(names.length).toBeGreaterThan(0);
    expect(names.join(' ')).not.toContain('order');
    // Kept as long as the store keeps its keys, and bounded (its writes are best effort).
    expect((await bucket.status()).ttl).toBe(RETENTION_MS);
    const { config } = (await bucket.status()).streamInfo;
    expect(config.max_bytes).toBe(natsStorageBound('finishedIdempotencyKeys', TEST_NATS_STORAGE_BYTES));
    expect(config.max_msgs).toBe(natsKeyBound('finishedIdempotencyKeys', DEFAULT_NATS_MEMORY_BYTES));
    // Full, it refuses new keys (their retries read the store), as its byte bound did.
    expect(config.discard).toBe('new');
  });

  it('forgets an entry only while it names the session forgotten', async () => {
    const [a, b] = [await replica(), await replica()];
    const keyId = `${ACCOUNT}:${randomUUID()}`;
    const claim = (sessionId: string) => ({ requestHash: 'd'.repeat(64), sessionId, claimedAt: Date.now() });
    await a.keys.remember(ACCOUNT, keyId, claim('s1'));
    await b.keys.forget(ACCOUNT, keyId, 's1');
    expect(await a.keys.get(ACCOUNT, keyId)).toBeNull();
    // A newer claim finished: a late forget of the old session leaves it.
    await a.keys.remember(ACCOUNT, keyId, claim('s2'));
    await b.keys.forget(ACCOUNT, keyId, 's1');
    expect(await a.keys.get(ACCOUNT, keyId)).toMatchObject({ sessionId: 's2' });
  });

  it('answers "not known" when NATS is gone, so the store answers instead', async () => {
    const { keys, nc } = await replica();
    await keys.remember(ACCOUNT, `${ACCOUNT}:k`, {
      requestHash: 'b'.repeat(64),
      sessionId: 's',
      claimedAt: 1,
    });
    await nc.close();
    expect(await keys.get(ACCOUNT, `${ACCOUNT}:k`)).toBeNull();
    await expect(keys.forget(ACCOUNT, `${ACCOUNT}:k`, 's')).resolves.toBeUndefined();
    await expect(
      keys.remember(ACCOUNT, `${ACCOUNT}:k2`, { requestHash: 'c', sessionId: 's', claimedAt: 1 }),
    ).resolves.toBeUndefined();
  });
});
