import { SharedReads } from './shared-reads';

describe('SharedReads', () => {
  it('shares one load among concurrent and later asks until it is ttlMs old', async () => {
    let t = 0;
    let loads = 0;
    const reads = new SharedReads<string, number>({ ttlMs: 1000, maxEntries: 10 }, () => t);
    const load = async () => ++loads;
    expect(await Promise.all([reads.get('a', load), reads.get('a', load)])).toEqual([1, 1]);
    t = 999;
    expect(await reads.get('a', load)).toBe(1);
    t = 1000;
    expect(await reads.get('a', load)).toBe(2);
    expect(await reads.get('b', load)).toBe(3);
  });

  it('does not keep a failed load, and keeps at most maxEntries keys', async () => {
    const reads = new SharedReads<string, string>({ ttlMs: 1000, maxEntries: 2 }, () => 0);
    await expect(reads.get('x', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await reads.get('x', async () => 'up')).toBe('up');
    let loads = 0;
    const count = async () => String(++loads);
    await reads.get('k1', count);
    await reads.get('k2', count);
    await reads.get('k3', count); // k1 (after x) goes
    expect(await reads.get('k3', count)).toBe('3');
    expect(await reads.get('x', count)).toBe('4'); // evicted, loaded again
  });
});
