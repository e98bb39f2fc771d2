import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { CodedError, PoolErrorCodes } from '@maskline/contracts';
import { InMemoryHoldStore } from './in-memory-hold-store';
import { NumberAllocator } from './number-allocator';

const POOL = ['+14155550101', '+14155550102', '+14155550103'];
const A = '+14155551001';
const B = '+14155551002';
const C = '+14155551003';

function setup(now = { t: 0 }) {
  const store = new InMemoryHoldStore();
  const allocator = new NumberAllocator(store, {
    strategy: 'first-fit',
    maxAttempts: 5,
    now: () => new Date(now.t),
    random: Math.random,
  });
  const allocate = (
    parties: string[],
    opts: { cooloff?: number; exclude?: string[]; candidates?: string[] } = {},
  ) =>
    allocator.allocate({
      accountId: 'MA000000000000000001',
      allocationId: randomUUID(),
      parties,
      candidates: opts.candidates ?? POOL,
      exclude: new Set(opts.exclude ?? []),
      cooloffSeconds: opts.cooloff ?? 0,
      poolLabel: 'in US',
    });
  return { store, allocator, allocate, now };
}

describe('NumberAllocator (first-fit)', () => {
  it('reuses the first number for sessions whose parties do not overlap', async () => {
    const { allocate } = setup();
    expect((await allocate([A, B])).virtualNumber).toBe(POOL[0]);
    expect((await allocate([C, '+14155551004'])).virtualNumber).toBe(POOL[0]);
  });

  it('never gives a party the same number twice while live', async () => {
    const { allocate } = setup();
    expect((await allocate([A, B])).virtualNumber).toBe(POOL[0]);
    expect((await allocate([A, C])).virtualNumber).toBe(POOL[1]);
    expect((await allocate([C, B])).virtualNumber).toBe(POOL[2]);
  });

  it('keeps a released pair blocked for its cool-off, then frees it', async () => {
    const { allocate, allocator, now } = setup();
    const first = await allocate([A, B], { cooloff: 60 });
    await allocator.release(first.holds, first.holds[0].cooloffSeconds, new Date(now.t));
    expect((await allocate([A, C])).virtualNumber).toBe(POOL[1]);
    now.t += 60_000;
    expect((await allocate([A, '+14155551005'])).virtualNumber).toBe(POOL[0]);
  });

  it('freeing a pair with no cool-off, clears its hint before its hold goes: a clear that fails leaves the hold to release again', async () => {
    const { allocate, allocator, store, now } = setup();
    const first = await allocate([A, B]);
    const clear = store.clearPairHint.bind(store);
    let failures = 1;
    store.clearPairHint = async (...args) => {
      if (failures-- > 0) throw new Error('KV timed out');
      return clear(...args);
    };
    await expect(allocator.release(first.holds, 0, new Date(now.t))).rejects.toThrow('KV timed out');
    // The hold is still there to be found (its allocation's release is retried from it).
    expect(store.liveHolds(new Date(now.t)).map((h) => h._id)).toContain(first.holds[0]._id);
    await allocator.release(first.holds, 0, new Date(now.t));
    expect(await store.pairHint(first.virtualNumber, A)).toBeNull();
    expect(store.liveHolds(new Date(now.t))).toEqual([]);
  });

  it('a claim refused by a live hold retired just after leaves no hint naming it', async () => {
    const { allocate, allocator, store, now } = setup();
    const first = await allocate([A, B]);
    const [held] = first.holds.filter((h) => h.party === A);
    // The claim finds the live hold; the session ends (its hints cleared, its hold retired) before
    // the claim's repair of the hint lands.
    const find = store.findLiveHold.bind(store);
    let looks = 0;
    store.findLiveHold = async (...args) => {
      const found = await find(...args);
      if (++looks === 1) await allocator.release([held], 0, new Date(now.t));
      return found;
    };
    await expect(
      allocator.claimParty(held.accountId, randomUUID(), first.virtualNumber, A, 0),
    ).rejects.toMatchObject({
      code: PoolErrorCodes.PARTY_CONFLICT,
    });
    expect(await store.pairHint(first.virtualNumber, A)).toBeNull();
  });

  it('frees a pair at once when there is no cool-off', async () => {
    const { allocate, allocator, now } = setup();
    const first = await allocate([A, B]);
    await allocator.release(first.holds, first.holds[0].cooloffSeconds, new Date(now.t));
    expect((await allocate([A, B])).virtualNumber).toBe(POOL[0]);
  });

  it('skips excluded numbers', async () => {
    const { allocate } = setup();
    expect((await allocate([A, B], { exclude: [POOL[0]] })).virtualNumber).toBe(POOL[1]);
  });

  it('says which party exhausted the pool', async () => {
    const { allocate } = setup();
    await allocate([A, B]);
    await allocate([A, C]);
    await allocate([A, '+14155551006']);
    const err = await allocate([A, '+14155551007']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CodedError);
    expect((err as CodedError).code).toBe(PoolErrorCodes.EXHAUSTED);
    expect((err as CodedError).message).toBe(
      'every virtual number in US is already held by first party +14155551001 in a live session or cool-off',
    );
  });

  it('says when the pool is empty', async () => {
    const { allocate } = setup();
    await expect(allocate([A, B], { candidates: [] })).rejects.toThrow(
      'no virtual number in US in this account',
    );
  });

  it('undoes the first party’s claim when the second party conflicts', async () => {
    const { allocate, store, now } = setup();
    await allocate([B, C], { candidates: [POOL[0]] });
    await expect(allocate([A, B], { candidates: [POOL[0]] })).rejects.toMatchObject({
      code: PoolErrorCodes.EXHAUSTED,
    });
    expect(store.liveHolds(new Date(now.t)).filter((h) => h.party === A)).toHaveLength(0);
  });
});

describe('NumberAllocator invariants (property)', () => {
  const parties = ['+14155552001', '+14155552002', '+14155552003', '+14155552004', '+14155552005'];
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('allocate' as const),
      a: fc.nat(4),
      b: fc.nat(4),
      cooloff: fc.constantFrom(0, 30),
    }),
    fc.record({ kind: fc.constant('release' as const), pick: fc.nat(1000) }),
    fc.record({ kind: fc.constant('tick' as const), seconds: fc.integer({ min: 1, max: 40 }) }),
  );

  it('one live hold per (number, party) under any sequence, and allocation fails only when no number fits', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 80 }), async (ops) => {
        const { allocate, allocator, store, now } = setup();
        const sessions: Array<{ holds: Awaited<ReturnType<typeof allocate>>['holds'] }> = [];
        for (const o of ops) {
          if (o.kind === 'tick') now.t += o.seconds * 1000;
          if (o.kind === 'release' && sessions.length > 0) {
            const [s] = sessions.splice(o.pick % sessions.length, 1);
            await allocator.release(s.holds, s.holds[0].cooloffSeconds, new Date(now.t));
          }
          if (o.kind === 'allocate' && o.a !== o.b) {
            const pair = [parties[o.a], parties[o.b]];
            try {
              sessions.push(await allocate(pair, { cooloff: o.cooloff }));
            } catch (err) {
              expect((err as CodedError).code).toBe(PoolErrorCodes.EXHAUSTED);
              const live = store.liveHolds(new Date(now.t));
              for (const n of POOL) {
                expect(live.some((h) => h.virtualNumber === n && pair.includes(h.party))).toBe(true);
              }
            }
          }
          const live = store.liveHolds(new Date(now.t));
          const keys = live.map((h) => `${h.virtualNumber}|${h.party}`);
          expect(new Set(keys).size).toBe(keys.length);
        }
      }),
      { numRuns: 150 },
    );
  });
});
