import { randomUUID } from 'node:crypto';
import {
  NATS_KEY_MEMORY_BYTES,
  NATS_MEMORY_SHARES,
  natsKeyBound,
  natsStorageBound,
} from '@maskline/contracts';
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

  it('makes room in a bucket that forgets its oldest when full: every write goes in, the newest are still remembered, and a create of one of them is still refused', async () => {
    const name = `test-forget-${randomUUID()}`;
    const bound = 8192;
    const bucket = await (
      await replicas.replica()
    ).kv.bucket(name, {
      maxBytes: bound,
      whenFull: 'forget-oldest',
    });
    expect((await bucket.status()).streamInfo.config.discard).toBe('old');
    // Many times what it can hold: none refused (a bucket that refused would answer a replay guard
    // with errors once full, for every tenant).
    const keys = Array.from({ length: 400 }, (_, i) => `k${i}`);
    for (const k of keys) await expect(bucket.create(k, 'x')).resolves.toBeGreaterThan(0);
    const { state } = (await bucket.status()).streamInfo;
    expect(state.bytes).toBeLessThanOrEqual(bound);
    // The oldest forgotten (created again, it goes in); the newest remembered (created again, refused).
    expect(await bucket.get(keys[0])).toBeNull();
    await expect(bucket.create(keys[0], 'x')).resolves.toBeGreaterThan(0);
    await expect(bucket.create(keys.at(-1)!, 'x')).rejects.toThrow(/wrong last sequence/);
    // Declared without `whenFull` by this release: it refuses writes when full once more (an older
    // release leaves the policy as it is).
    const refusing = await (await replicas.replica()).kv.bucket(name, { maxBytes: bound });
    expect((await refusing.status()).streamInfo.config.discard).toBe('new');
  });

  it('bounds a bucket with a share of NATS storage by that share of NATS_STORAGE_BYTES, forgetting its oldest, and refuses to open it unbounded when NATS cannot reserve it', async () => {
    const name = `test-share-${randomUUID()}`;
    const storageBytes = 1024 * 1024;
    const { kv } = await replicas.replica({ storageBytes });
    const bucket = await kv.bucket(name, { ttlMs: 60_000, storageShare: 'messageRelays' });
    const { config } = (await bucket.status()).streamInfo;
    expect(config.max_bytes).toBe(natsStorageBound('messageRelays', storageBytes));
    expect(config.discard).toBe('old');
    for (let i = 0; i < 2000; i++)
      await expect(bucket.create(`k${i}`, 'x'.repeat(40))).resolves.toBeGreaterThan(0);
    expect((await bucket.status()).streamInfo.state.bytes).toBeLessThanOrEqual(config.max_bytes);
    expect(await bucket.get('k0')).toBeNull();

    // Its keys bounded by its share of NATS's memory too (NATS keeps each key in memory): with room
    // for 100 keys, 500 tiny ones leave the newest 100.
    const memoryBytes = (100 * NATS_KEY_MEMORY_BYTES * 100) / NATS_MEMORY_SHARES.messageRelays;
    expect(natsKeyBound('messageRelays', memoryBytes)).toBe(100);
    const keyed = await (
      await replicas.replica({ storageBytes, memoryBytes })
    ).kv.bucket(`test-keys-${randomUUID()}`, { storageShare: 'messageRelays' });
    expect((await keyed.status()).streamInfo.config.max_msgs).toBe(100);
    for (let i = 0; i < 500; i++) await expect(keyed.create(`k${i}`, '1')).resolves.toBeGreaterThan(0);
    expect((await keyed.status()).streamInfo.state.messages).toBe(100);
    expect(await keyed.get('k399')).toBeNull();
    expect((await keyed.get('k400'))?.string()).toBe('1');

    // A NATS node with less storage than NATS_STORAGE_BYTES says: the service is told, not left unbounded.
    const huge = 1024 ** 5;
    const { kv: misconfigured } = await replicas.replica({ storageBytes: huge });
    await expect(
      misconfigured.bucket(`test-share-${randomUUID()}`, { storageShare: 'messageRelays' }),
    ).rejects.toThrow(
      /NATS refuses to reserve \d+ bytes for KV bucket test-share-.* \(\d+ % of NATS_STORAGE_BYTES=1125899906842624\)/,
    );
    // The same for one that refuses when full (made with its bound, where the refusal comes).
    await expect(
      misconfigured.bucket(`test-share-${randomUUID()}`, {
        storageShare: 'creationVerdicts',
        whenFull: 'refuse',
      }),
    ).rejects.toThrow(/NATS refuses to reserve \d+ bytes for KV bucket test-share-/);
  });

  it('removes the delete and purge markers an earlier release left, a slice at a time from where the last stopped, keeping live entries and markers written later too', async () => {
    const { kv } = await replicas.replica();
    const name = `test-markers-${randomUUID()}`;
    const bucket = await kv.bucket(name, {});
    await bucket.put('live-1', 'v');
    await bucket.put('gone-1', 'v');
    await bucket.delete('gone-1');
    await bucket.put('gone-2', 'v');
    await bucket.purge('gone-2');
    await bucket.put('live-2', 'v');
    const keysHeld = async () => (await bucket.status()).values;
    expect(await keysHeld()).toBe(4);

    // Two entries a slice: live-1 and gone-1's marker, then gone-2's marker and live-2.
    const first = await kv.removeDeleteMarkers(name, 0, 2);
    expect(first).toMatchObject({ removed: 1, atEnd: false });
    expect(await kv.leaderEntry(name, 'gone-1')).toBeNull();
    expect(await kv.leaderEntry(name, 'gone-2')).toMatchObject({ operation: 'PURGE' });
    const second = await kv.removeDeleteMarkers(name, first.next, 2);
    expect(second).toMatchObject({ removed: 1, atEnd: true });
    expect(await kv.leaderEntry(name, 'gone-2')).toBeNull();
    expect(await keysHeld()).toBe(2);
    expect((await bucket.get('live-1'))?.string()).toBe('v');
    expect((await bucket.get('live-2'))?.string()).toBe('v');
    // Read through: the next slice has nothing to read, and answers at once.
    await expect(kv.removeDeleteMarkers(name, second.next, 2)).resolves.toEqual({
      removed: 0,
      next: second.next,
      atEnd: true,
    });

    // A marker written later (a replica of the earlier release, during a rollout) goes on the next slice.
    await bucket.put('gone-3', 'v');
    await bucket.delete('gone-3');
    const third = await kv.removeDeleteMarkers(name, second.next, 2);
    expect(third.removed).toBe(1);
    expect(await kv.leaderEntry(name, 'gone-3')).toBeNull();
    expect(await keysHeld()).toBe(2);
  });

  it('reads to the end of a bucket whose last entries were removed without waiting for them, and says so', async () => {
    const { kv } = await replicas.replica();
    const name = `test-markers-tail-${randomUUID()}`;
    const bucket = await kv.bucket(name, {});
    await bucket.put('live', 'v');
    await bucket.put('gone', 'v');
    await bucket.delete('gone');
    const tail = await bucket.put('forgotten', 'v');
    // Says whether it removed it: a second time, there is nothing left to remove.
    await expect(kv.forgetRevision(name, tail)).resolves.toBe(true);
    await expect(kv.forgetRevision(name, tail)).resolves.toBe(false);
    // The stream still numbers its last entry `tail`, which no longer exists.
    await expect(kv.removeDeleteMarkers(name, 0, 100)).resolves.toEqual({
      removed: 1,
      next: tail,
      atEnd: true,
    });
    // From the removed tail on: nothing to read, at once.
    await expect(kv.removeDeleteMarkers(name, tail - 1, 100)).resolves.toEqual({
      removed: 0,
      next: tail,
      atEnd: true,
    });
    expect((await bucket.get('live'))?.string()).toBe('v');
    expect(await kv.leaderEntry(name, 'gone')).toBeNull();
  });
});
