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
});
