import { InsertBatcher } from './insert-batcher';

/** A store stand-in that records each insertMany and answers as told. */
function fakeStore(answer: (docs: string[]) => unknown = () => undefined) {
  const calls: string[][] = [];
  let release: (() => void) | undefined;
  let holding = false;
  const insertMany = async (docs: string[]) => {
    calls.push(docs);
    if (holding) await new Promise<void>((r) => (release = r));
    const failure = answer(docs);
    if (failure) throw failure;
  };
  return {
    calls,
    insertMany,
    hold: () => (holding = true),
    letGo: () => {
      holding = false;
      release?.();
    },
  };
}

const bulkError = (writeErrors: Array<{ index: number; code: number }>, extra = {}) =>
  Object.assign(new Error('bulk write failed'), { name: 'MongoBulkWriteError', writeErrors, ...extra });

describe('InsertBatcher', () => {
  it('writes the inserts of one turn of the event loop as one insertMany', async () => {
    const store = fakeStore();
    const batcher = new InsertBatcher(store.insertMany, { maxBatch: 100 });
    const outcomes = await Promise.all(['a', 'b', 'c'].map((d) => batcher.insert(d)));
    expect(outcomes).toEqual(['inserted', 'inserted', 'inserted']);
    expect(store.calls).toEqual([['a', 'b', 'c']]);
  });

  it('writes one batch at a time, and what arrives meanwhile goes in the next one', async () => {
    const store = fakeStore();
    const batcher = new InsertBatcher(store.insertMany, { maxBatch: 100 });
    store.hold();
    const first = batcher.insert('a');
    await new Promise((r) => setImmediate(r));
    const later = ['b', 'c', 'd'].map((d) => batcher.insert(d));
    await new Promise((r) => setImmediate(r));
    expect(store.calls).toEqual([['a']]);
    store.letGo();
    await Promise.all([first, ...later]);
    expect(store.calls).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('never puts more than maxBatch documents in one write', async () => {
    const store = fakeStore();
    const batcher = new InsertBatcher(store.insertMany, { maxBatch: 2 });
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((d) => batcher.insert(d)));
    expect(store.calls).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('tells each caller its own outcome: duplicates resolve, other write errors reject only their document', async () => {
    const failure = bulkError([
      { index: 1, code: 11000 },
      { index: 2, code: 121 },
    ]);
    const store = fakeStore(() => failure);
    const batcher = new InsertBatcher(store.insertMany, { maxBatch: 100 });
    const settled = await Promise.allSettled(['a', 'b', 'c', 'd'].map((d) => batcher.insert(d)));
    expect(settled).toEqual([
      { status: 'fulfilled', value: 'inserted' },
      { status: 'fulfilled', value: 'duplicate' },
      { status: 'rejected', reason: failure },
      { status: 'fulfilled', value: 'inserted' },
    ]);
  });

  it('rejects every document of a batch whose command failed as a whole', async () => {
    const down = Object.assign(new Error('connection closed'), { name: 'MongoNetworkError' });
    const store = fakeStore(() => down);
    const batcher = new InsertBatcher(store.insertMany, { maxBatch: 100 });
    const settled = await Promise.allSettled(['a', 'b'].map((d) => batcher.insert(d)));
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
  });

  it('does not call documents inserted when the write concern failed', async () => {
    const failure = bulkError([{ index: 0, code: 11000 }], { writeConcernError: { code: 64 } });
    const store = fakeStore(() => failure);
    const batcher = new InsertBatcher(store.insertMany, { maxBatch: 100 });
    const settled = await Promise.allSettled(['a', 'b'].map((d) => batcher.insert(d)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected']);
  });

  it('goes on writing after a failed batch', async () => {
    let fail = true;
    const store = fakeStore(() => (fail ? new Error('store down') : undefined));
    const batcher = new InsertBatcher(store.insertMany, { maxBatch: 100 });
    await expect(batcher.insert('a')).rejects.toThrow('store down');
    fail = false;
    await expect(batcher.insert('b')).resolves.toBe('inserted');
  });
});

describe('InsertBatcher with maxWaitMs', () => {
  it('lets the first document wait for company, up to maxWaitMs', async () => {
    const store = fakeStore();
    const batcher = new InsertBatcher(store.insertMany, { maxBatch: 100, maxWaitMs: 40 });
    const first = batcher.insert('a');
    await new Promise((r) => setTimeout(r, 10));
    expect(store.calls).toEqual([]);
    const second = batcher.insert('b');
    await Promise.all([first, second]);
    expect(store.calls).toEqual([['a', 'b']]);
  });

  it('writes a full batch at once without waiting', async () => {
    const store = fakeStore();
    const batcher = new InsertBatcher(store.insertMany, { maxBatch: 2, maxWaitMs: 60_000 });
    await Promise.all([batcher.insert('a'), batcher.insert('b')]);
    expect(store.calls).toEqual([['a', 'b']]);
  });
});
