import { randomUUID } from 'node:crypto';
import { expectEventually, kvReplicasForSuite } from '@maskline/testing';
import { SharedSlots, type SharedSlotsOptions } from './shared-slots';

describe('work in flight capped across replicas (real NATS KV)', () => {
  const replicas = kvReplicasForSuite('callback-dispatcher');
  const releaseErrors: unknown[] = [];

  async function replica(
    bucket: string,
    limit: number,
    slotTtlMs = 60_000,
    renewal: Pick<SharedSlotsOptions, 'renewEveryMs' | 'onRenewError'> = {},
  ) {
    const { nc, kv } = await replicas.replica();
    return {
      nc,
      slots: new SharedSlots(kv, {
        bucket,
        limit,
        slotTtlMs,
        onReleaseError: (e) => releaseErrors.push(e),
        ...renewal,
      }),
    };
  }

  /** Work that runs until the test lets it finish. */
  function gate() {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    let started = 0;
    return { open, work: async () => ((started += 1), await opened, 'done'), started: () => started };
  }

  it('admits `limit` runs per key across replicas, refuses the rest, and admits again as runs end', async () => {
    const bucket = `test-slots-${randomUUID()}`;
    const [a, b] = [await replica(bucket, 3), await replica(bucket, 3)];
    const g = gate();
    const key = 'MAACCOUNT|hooks.customer.test:8443';

    let refused = 0;
    const runs = Array.from({ length: 8 }, (_, i) =>
      (i % 2 ? a : b).slots.run(key, g.work).then((r) => ((refused += r.admitted ? 0 : 1), r)),
    );
    await expectEventually(() => expect(g.started()).toBe(3));
    // Every run decided before any ends: one still trying (a slow machine) would find a slot given back.
    await expectEventually(() => expect(refused).toBe(5));
    // Another key has its own slots.
    expect(await a.slots.run('MAACCOUNT|other.test', async () => 'other')).toEqual({
      admitted: true,
      value: 'other',
    });

    g.open();
    const results = await Promise.all(runs);
    expect(results.filter((r) => r.admitted)).toHaveLength(3);
    expect(results.filter((r) => !r.admitted)).toHaveLength(5);

    // Every slot was given back: three more fit at once.
    const again = gate();
    const next = Array.from({ length: 3 }, (_, i) => (i % 2 ? a : b).slots.run(key, again.work));
    await expectEventually(() => expect(again.started()).toBe(3));
    again.open();
    expect((await Promise.all(next)).every((r) => r.admitted)).toBe(true);
    expect(releaseErrors).toEqual([]);
  });

  it('frees the slot of a replica that died holding it once its TTL has passed', async () => {
    const bucket = `test-slots-${randomUUID()}`;
    const dying = await replica(bucket, 1, 1500);
    const survivor = await replica(bucket, 1, 1500);
    const held = gate();
    void dying.slots.run('key', held.work);
    await expectEventually(() => expect(held.started()).toBe(1));
    await dying.nc.close();

    expect(await survivor.slots.run('key', async () => 'x')).toEqual({ admitted: false });
    await expectEventually(
      async () =>
        expect(await survivor.slots.run('key', async () => 'x')).toEqual({ admitted: true, value: 'x' }),
      {
        timeoutMs: 10_000,
        intervalMs: 200,
      },
    );
  });

  it('keeps the slot of a live holder that renews it, past its TTL, and frees it when the work ends', async () => {
    const bucket = `test-slots-${randomUUID()}`;
    const ttlMs = 1500;
    const renewErrors: unknown[] = [];
    const holder = await replica(bucket, 1, ttlMs, {
      renewEveryMs: ttlMs / 4,
      onRenewError: (e) => renewErrors.push(e),
    });
    const other = await replica(bucket, 1, ttlMs);
    const held = gate();
    const run = holder.slots.run('key', held.work);
    await expectEventually(() => expect(held.started()).toBe(1));

    // Asked for again and again until over twice its TTL has passed: never given to another.
    const since = Date.now();
    let stolen = false;
    await expectEventually(
      async () => {
        if ((await other.slots.run('key', async () => 'stolen')).admitted) stolen = true;
        expect(Date.now() - since).toBeGreaterThan(2 * ttlMs);
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(stolen).toBe(false);

    held.open();
    expect(await run).toEqual({ admitted: true, value: 'done' });
    expect(await other.slots.run('key', async () => 'x')).toEqual({ admitted: true, value: 'x' });
    expect(renewErrors).toEqual([]);
    expect(releaseErrors).toEqual([]);
  });

  it('lets a run wait its turn: one at a time across replicas, in turn, and not past its wait', async () => {
    const bucket = `test-slots-${randomUUID()}`;
    const [a, b] = [await replica(bucket, 1), await replica(bucket, 1)];
    const order: string[] = [];
    const held = gate();
    const first = a.slots.runWhenFree(
      'session',
      async () => {
        order.push('first starts');
        await held.work();
        order.push('first ends');
        return 1;
      },
      { withinMs: 5000 },
    );
    await expectEventually(() => expect(held.started()).toBe(1));

    // Another replica's run waits while the slot is held...
    let waits = 0;
    const second = b.slots.runWhenFree('session', async () => (order.push('second runs'), 2), {
      withinMs: 30_000,
      onWait: () => (waits += 1),
    });
    await expectEventually(() => expect(waits).toBeGreaterThanOrEqual(2));
    // ...one whose wait is short gives up without running...
    expect(await a.slots.runWhenFree('session', async () => order.push('never'), { withinMs: 50 })).toEqual({
      admitted: false,
    });
    expect(order).toEqual(['first starts']);

    // ...and the waiting one runs once the holder ends.
    held.open();
    expect(await first).toEqual({ admitted: true, value: 1 });
    expect(await second).toEqual({ admitted: true, value: 2 });
    expect(order).toEqual(['first starts', 'first ends', 'second runs']);

    // Work that fails gives its slot back too.
    await expect(
      a.slots.runWhenFree('session', async () => Promise.reject(new Error('write failed')), { withinMs: 0 }),
    ).rejects.toThrow('write failed');
    expect(await b.slots.run('session', async () => 'free')).toEqual({ admitted: true, value: 'free' });
    expect(releaseErrors).toEqual([]);
  });
});
