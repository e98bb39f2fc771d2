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

describe('waiting for a turn in a full compartment', () => {
  const held = () => {
    const gates: Array<() => void> = [];
    return {
      work: (label: string) => () => new Promise<string>((resolve) => gates.push(() => resolve(label))),
      open: () => gates.shift()?.(),
    };
  };

  it('hands the slot of work that ends to the first that waited, before work that arrives after', async () => {
    const b = new Bulkheads(1);
    const gates = held();
    const first = b.run('a', gates.work('first'));
    const waited = b.run('a', gates.work('waited'), { waitMs: 60_000 });
    gates.open();
    expect(await first).toEqual({ admitted: true, value: 'first' });
    // The turn is the waiter's now: one that comes without waiting finds the compartment full.
    expect(await b.run('a', async () => 'late')).toEqual({ admitted: false });
    expect(b.used('a')).toBe(1);
    gates.open();
    expect(await waited).toEqual({ admitted: true, value: 'waited' });
    expect(b.used('a')).toBe(0);
  });

  it('gives up when no turn comes in time, and lets no more wait than the limit', async () => {
    jest.useFakeTimers();
    try {
      const b = new Bulkheads(2);
      const gates = held();
      const running = [b.run('a', gates.work('1')), b.run('a', gates.work('2'))];
      const waiting = [
        b.run('a', gates.work('3'), { waitMs: 500 }),
        b.run('a', gates.work('4'), { waitMs: 500 }),
      ];
      // Two wait already (the limit): a third is not let in to wait.
      expect(await b.run('a', gates.work('5'), { waitMs: 500 })).toEqual({ admitted: false });
      jest.advanceTimersByTime(500);
      expect(await Promise.all(waiting)).toEqual([{ admitted: false }, { admitted: false }]);
      gates.open();
      gates.open();
      await Promise.all(running);
      expect(b.used('a')).toBe(0);
      // Nobody is left waiting: the next one runs at once.
      expect(await b.run('a', async () => 'next')).toEqual({ admitted: true, value: 'next' });
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('a compartment’s waits, bounded and closed', () => {
  it('lets at most maxWaiting wait, hands over the slot of work that failed, and refuses once full', async () => {
    const b = new Bulkheads(1, Date.now, { maxWaiting: 1 });
    let fail: (err: Error) => void = () => undefined;
    const failing = b.run('a', () => new Promise<string>((_, reject) => (fail = reject)));
    expect(b.refuses('a')).toBe(false);
    const waited = b.run('a', async () => 'waited', { waitMs: 60_000 });
    expect(b.waiting('a')).toBe(1);
    expect(b.refuses('a')).toBe(true);
    expect(await b.run('a', async () => 'third', { waitMs: 60_000 })).toEqual({ admitted: false });
    fail(new Error('boom'));
    await expect(failing).rejects.toThrow('boom');
    expect(await waited).toEqual({ admitted: true, value: 'waited' });
    expect([b.used('a'), b.waiting('a'), b.refuses('a')]).toEqual([0, 0, false]);
  });

  it('tells the waiting no turn came when closed, lets none wait after, and lets running work finish', async () => {
    const b = new Bulkheads(1);
    let finish: () => void = () => undefined;
    const running = b.run('a', () => new Promise<string>((resolve) => (finish = () => resolve('ran'))));
    const waiting = b.run('a', async () => 'never', { waitMs: 60_000 });
    b.close();
    expect(await waiting).toEqual({ admitted: false });
    expect(b.refuses('a')).toBe(true);
    expect(await b.run('a', async () => 'never', { waitMs: 60_000 })).toEqual({ admitted: false });
    finish();
    expect(await running).toEqual({ admitted: true, value: 'ran' });
    // Admitted at once still runs, and in the call itself.
    let started = false;
    const now = b.run('a', async () => (started = true));
    expect(started).toBe(true);
    await now;
  });
});
