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

  it('holds no more than the bound a bucket is given: past it a write is refused, and the bound follows the setting', async () => {
    const name = `test-bound-${randomUUID()}`;
    const bounded = await (await replicas.replica()).kv.bucket(name, { maxBytes: 4096 });
    const big = 'x'.repeat(512);
    const written: boolean[] = [];
    for (let i = 0; i < 16; i++)
      written.push(
        await bounded.put(`k${i}`, big).then(
          () => true,
          () => false,
        ),
      );
    expect(written.filter(Boolean).length).toBeGreaterThan(0);
    expect(written.at(-1)).toBe(false);
    expect((await bounded.status()).streamInfo.config.max_bytes).toBe(4096);
    // Raised (a setting changed): writes go in again.
    const raised = await (await replicas.replica()).kv.bucket(name, { maxBytes: 1024 * 1024 });
    expect((await raised.status()).streamInfo.config.max_bytes).toBe(1024 * 1024);
    await expect(raised.put('later', big)).resolves.toBeGreaterThan(0);
    // Declared without one, it keeps the bound it has (an operator may have set it).
    const kept = await (await replicas.replica()).kv.bucket(name, {});
    expect((await kept.status()).streamInfo.config.max_bytes).toBe(1024 * 1024);
  });
});
