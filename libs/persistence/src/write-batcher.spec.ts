import { StatementBatcher } from './write-batcher';

/** A store stand-in that records each statement and can hold it until let go, or fail it. */
function fakeStatement() {
  const calls: string[][] = [];
  let release: (() => void) | undefined;
  let holding = false;
  let failNext: Error | undefined;
  const run = async (items: string[]) => {
    calls.push(items);
    if (holding) await new Promise<void>((r) => (release = r));
    const failure = failNext;
    failNext = undefined;
    if (failure) throw failure;
  };
  return {
    calls,
    run,
    hold: () => (holding = true),
    fail: (err: Error) => (failNext = err),
    letGo: () => {
      holding = false;
      release?.();
    },
  };
}

describe('StatementBatcher', () => {
  it('runs the calls of one turn of the event loop as one statement', async () => {
    const store = fakeStatement();
    const batcher = new StatementBatcher(store.run, { maxBatch: 100 });
    await Promise.all(['a', 'b', 'c'].map((id) => batcher.run(id)));
    expect(store.calls).toEqual([['a', 'b', 'c']]);
  });

  it('runs one statement at a time; what arrives meanwhile goes in the next, up to maxBatch', async () => {
    const store = fakeStatement();
    const batcher = new StatementBatcher(store.run, { maxBatch: 2 });
    store.hold();
    const first = batcher.run('a');
    await new Promise((r) => setImmediate(r));
    expect(store.calls).toEqual([['a']]);
    const later = ['b', 'c', 'd'].map((id) => batcher.run(id));
    store.letGo();
    await Promise.all([first, ...later]);
    expect(store.calls).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  it('rejects every caller of a failed statement, and goes on with the next batch', async () => {
    const store = fakeStatement();
    const batcher = new StatementBatcher(store.run, { maxBatch: 100 });
    store.fail(new Error('store gone'));
    const failed = ['a', 'b'].map((id) => batcher.run(id));
    await expect(Promise.all(failed)).rejects.toThrow('store gone');
    await expect(failed[1]).rejects.toThrow('store gone');
    await expect(batcher.run('c')).resolves.toBeUndefined();
    expect(store.calls).toEqual([['a', 'b'], ['c']]);
  });
});
