import { InvalidatedCache } from './invalidated-cache';

describe('a cache kept fresh by change events', () => {
  let now = 0;
  const cache = () => new InvalidatedCache<string, string>({ ttlMs: 1000, maxEntries: 2 }, () => now);
  const deferred = () => {
    let resolve!: (v: string) => void;
    const promise = new Promise<string>((r) => (resolve = r));
    return { promise, resolve };
  };

  beforeEach(() => (now = 0));

  it('keeps a value until it is invalidated or its time is up', async () => {
    const c = cache();
    let loads = 0;
    const load = async () => `v${++loads}`;
    expect(await c.get('a', load)).toBe('v1');
    expect(await c.get('a', load)).toBe('v1');
    c.invalidate('a');
    expect(await c.get('a', load)).toBe('v2');
    now = 1001;
    expect(await c.get('a', load)).toBe('v3');
  });

  it('does not keep a value read while a change was announced: it may be from before it', async () => {
    const c = cache();
    const slow = deferred();
    const reading = c.get('a', () => slow.promise);
    c.invalidate('a');
    slow.resolve('old');
    expect(await reading).toBe('old');
    expect(await c.get('a', async () => 'new')).toBe('new');
  });

  it('answers with an announced value without loading, and keeps it over a load that was under way', async () => {
    const c = cache();
    const slow = deferred();
    const reading = c.get('a', () => slow.promise);
    c.put('a', 'announced');
    slow.resolve('read before');
    expect(await reading).toBe('read before');
    expect(await c.get('a', async () => 'loaded')).toBe('announced');
    now = 1001;
    expect(await c.get('a', async () => 'loaded')).toBe('loaded');
  });

  it('shares one load among misses of a key at once, and loads again for a miss after its key changed', async () => {
    const c = cache();
    const loads: Array<ReturnType<typeof deferred>> = [];
    const load = () => {
      loads.push(deferred());
      return loads[loads.length - 1]!.promise;
    };
    const first = [c.get('a', load), c.get('a', load), c.get('a', load)];
    const other = c.get('b', load);
    expect(loads).toHaveLength(2);
    c.invalidate('a');
    const after = c.get('a', load);
    const alsoAfter = c.get('a', load);
    expect(loads).toHaveLength(3);
    loads[0]!.resolve('before');
    loads[1]!.resolve('b');
    loads[2]!.resolve('after');
    expect(await Promise.all(first)).toEqual(['before', 'before', 'before']);
    expect(await Promise.all([other, after, alsoAfter])).toEqual(['b', 'after', 'after']);
    expect(await c.get('a', load)).toBe('after');
    expect(loads).toHaveLength(3);
  });

  it('gives a failed load’s error to every miss that shared it, and loads again at the next', async () => {
    const c = cache();
    let calls = 0;
    const failing = async () => {
      calls += 1;
      throw new Error('owner unavailable');
    };
    const misses = [c.get('a', failing), c.get('a', failing)];
    await expect(Promise.all(misses)).rejects.toThrow('owner unavailable');
    await expect(misses[1]).rejects.toThrow('owner unavailable');
    expect(calls).toBe(1);
    expect(await c.get('a', async () => 'recovered')).toBe('recovered');
  });

  it('keeps a load that overlapped another key’s change', async () => {
    const c = cache();
    const slow = deferred();
    const reading = c.get('a', () => slow.promise);
    c.invalidate('b');
    slow.resolve('kept');
    await reading;
    expect(await c.get('a', async () => 'reloaded')).toBe('kept');
  });

  it('keeps nothing for a value whose time is 0, and at most maxEntries', async () => {
    const c = cache();
    await c.get(
      'miss',
      async () => 'none',
      () => 0,
    );
    expect(c.size).toBe(0);
    for (const k of ['a', 'b', 'c']) await c.get(k, async () => k);
    expect(c.size).toBe(2);
  });

  describe('with owners (fair shares by tenant)', () => {
    type Row = { owner: string };
    const owned = (max: number) =>
      new InvalidatedCache<string, Row>(
        { ttlMs: 1000, maxEntries: max, ownerOf: (_k, v) => v.owner },
        () => now,
      );
    const loads: string[] = [];
    const load = (key: string, owner: string) => async () => {
      loads.push(key);
      return { owner };
    };
    beforeEach(() => (loads.length = 0));

    it('a tenant filling the cache pushes out its own entries, never another tenant’s', async () => {
      const c = owned(4);
      await c.get('victim-1', load('victim-1', 'victim'));
      await c.get('victim-2', load('victim-2', 'victim'));
      for (let i = 0; i < 100; i++) await c.get(`flood-${i}`, load(`flood-${i}`, 'attacker'));
      expect(c.size).toBe(4);
      loads.length = 0;
      await c.get('victim-1', load('victim-1', 'victim'));
      await c.get('victim-2', load('victim-2', 'victim'));
      await c.get('flood-99', load('flood-99', 'attacker'));
      expect(loads).toStrictEqual([]);
      // The attacker's older entries are gone: asked again, they load.
      await c.get('flood-0', load('flood-0', 'attacker'));
      expect(loads).toStrictEqual(['flood-0']);
    });

    it('invalidates, clears and re-owns by key as the plain cache does', async () => {
      const c = owned(2);
      await c.get('k', load('k', 'a'));
      c.invalidate('k');
      expect(c.peek('k')).toBeUndefined();
      c.put('k', { owner: 'b' }); // the key's value now belongs to another owner
      c.put('j', { owner: 'b' });
      c.put('i', { owner: 'a' }); // b holds the most: b's oldest (k) goes
      expect([c.peek('k'), c.peek('j'), c.peek('i'), c.size]).toStrictEqual([
        undefined,
        { owner: 'b' },
        { owner: 'a' },
        2,
      ]);
      c.clear();
      expect([c.peek('j'), c.size]).toStrictEqual([undefined, 0]);
    });
  });
});
