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

describe('how long a compartment’s oldest work has been running', () => {
  it('is the age of the earliest work still running, whichever finished before it', async () => {
    let now = 1_000;
    const b = new Bulkheads(3, () => now);
    const gates: Array<() => void> = [];
    const hold = () => new Promise<void>((resolve) => gates.push(resolve));
    expect(b.oldestRunningMs('a')).toBe(0);
    const first = b.run('a', hold);
    now = 1_400;
    const second = b.run('a', hold);
    now = 2_000;
    expect(b.oldestRunningMs('a')).toBe(1_000);
    expect(b.oldestRunningMs('b')).toBe(0);
    gates[0]();
    await first;
    expect(b.oldestRunningMs('a')).toBe(600);
    gates[1]();
    await second;
    expect(b.oldestRunningMs('a')).toBe(0);
    expect(b.used('a')).toBe(0);
  });
});
