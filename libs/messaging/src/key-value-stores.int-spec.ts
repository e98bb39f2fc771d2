import { randomUUID } from 'node:crypto';
import { kvReplicasForSuite } from '@maskline/testing';

describe('KV buckets (real NATS)', () => {
  const replicas = kvReplicasForSuite('pin-auth');

  it('gives a bucket made earlier with another age the one its service now asks for (a setting changed)', async () => {
    const name = `test-age-${randomUUID()}`;
    const before = await (await replicas.replica()).kv.bucket(name, { ttlMs: 60_000 });
    await before.put('k', 'v');
    expect((await before.status()).ttl).toBe(60_000);
    // A replica started with a longer window (a PIN lockout's, say): the bucket keeps entries that long.
    const after = await (await replicas.replica()).kv.bucket(name, { ttlMs: 3_600_000 });
    expect((await after.status()).ttl).toBe(3_600_000);
    expect((await after.get('k'))?.string()).toBe('v');
    // And shorter again.
    const shorter = await (await replicas.replica()).kv.bucket(name, { ttlMs: 120_000 });
    expect((await shorter.status()).ttl).toBe(120_000);
  });
});
