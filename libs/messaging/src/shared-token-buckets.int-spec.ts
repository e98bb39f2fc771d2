import { randomUUID } from 'node:crypto';
import { kvReplicasForSuite } from '@maskline/testing';
import { SharedTokenBuckets, type SharedTokenBucketsOptions } from './shared-token-buckets';

describe('token buckets shared by replicas (real NATS KV)', () => {
  const replicas = kvReplicasForSuite('gateway');

  /** One replica: its own NATS connection, its own leases, the shared bucket. */
  async function replica(
    options: Partial<SharedTokenBucketsOptions> & { now: () => number; bucket: string },
  ) {
    const { kv } = await replicas.replica();
    return new SharedTokenBuckets(kv, {
      ratePerSecond: 10,
      burst: 50,
      leaseSize: 5,
      leaseMs: 60_000,
      ...options,
    });
  }

  it('lets two replicas together take the burst once, not once each, even when they race', async () => {
    const t = 1_000_000;
    const bucket = `test-rate-${randomUUID()}`;
    const [a, b] = [await replica({ now: () => t, bucket }), await replica({ now: () => t, bucket })];
    // Each replica opens the KV bucket first, in turn, as a service does at start (KeyValueStores
    // opens what it declared before it answers): two first opens at once raced to create it, and
    // the loser limited on its own (CI, 2026-12-01).
    await a.take('warm-up');
    await b.take('warm-up');

    const results = await Promise.all(
      Array.from({ length: 160 }, (_, i) => (i % 2 === 0 ? a : b).take('MAACCOUNT00000000001')),
    );

    expect(results.filter((r) => r.ok)).toHaveLength(50);
    const refused = results.find((r) => !r.ok);
    expect(refused).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('limits on its own, without waiting on NATS, when KV cannot be reached', async () => {
    const t = 3_000_000;
    const cut = await replica({ now: () => t, bucket: `test-rate-${randomUUID()}`, burst: 5 });
    await replicas.connections.at(-1)!.close();
    const results = [];
    for (let i = 0; i < 8; i++) results.push(await cut.take('MAACCOUNT00000000009'));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(results[7]).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('refills at the account’s rate for all replicas together, and keeps accounts apart', async () => {
    let t = 2_000_000;
    const bucket = `test-rate-${randomUUID()}`;
    const options = { now: () => t, bucket, burst: 10, leaseSize: 2, leaseMs: 100 };
    const [a, b, c] = [await replica(options), await replica(options), await replica(options)];
    const drain = async (key: string) => {
      let ok = 0;
      for (let i = 0; i < 40; i++) if ((await [a, b, c][i % 3]!.take(key)).ok) ok++;
      return ok;
    };

    expect(await drain('busy')).toBe(10);
    // Two seconds later: 20 tokens at 10 a second, but the burst caps the bucket at 10.
    t += 2000;
    expect(await drain('busy')).toBe(10);
    t += 500;
    expect(await drain('busy')).toBe(5);
    // Another account was never touched.
    expect(await drain('calm')).toBe(10);
  });

  it('says a key is refused without asking anyone only while its last refusal stands', async () => {
    let t = 4_000_000;
    const r = await replica({ now: () => t, bucket: `test-rate-${randomUUID()}`, burst: 2, leaseSize: 1 });
    expect(r.refusing('MAACCOUNT00000000007')).toBe(false);
    for (let i = 0; i < 3; i++) await r.take('MAACCOUNT00000000007');
    expect(r.refusing('MAACCOUNT00000000007')).toBe(true);
    expect(r.refusing('MAACCOUNT00000000008')).toBe(false);
    // A token is due a tenth of a second later at 10 a second.
    t += 150;
    expect(r.refusing('MAACCOUNT00000000007')).toBe(false);
  });
});
