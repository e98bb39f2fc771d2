import { Bulkheads } from './bulkheads';

describe('bulkheads', () => {
  it('admits up to the limit per key, keeps keys apart, and frees a slot when work ends (or fails)', async () => {
    const b = new Bulkheads(2);
    const gates: Array<() => void> = [];
    const hold = () => new Promise<string>((resolve) => gates.push(() => resolve('done')));
    const first = b.run('a', hold);
    const second = b.run('a', hold);
    expect(await b.run('a', hold)).toEqual({ admitted: false });
    expect(b.used('a')).toBe(2);
    const other = b.run('b', async () => 'b ran');
    expect(await other).toEqual({ admitted: true, value: 'b ran' });
    gates.forEach((open) => open());
    expect(await first).toEqual({ admitted: true, value: 'done' });
    await second;
    expect(b.used('a')).toBe(0);
    await expect(b.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(b.used('a')).toBe(0);
  });
});
