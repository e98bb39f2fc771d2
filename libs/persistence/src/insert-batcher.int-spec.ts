import mongoose, { type Connection } from 'mongoose';
import { testStoreUrl, uniqueDbName } from '@maskline/testing';
import { InsertBatcher } from './insert-batcher';

interface Doc {
  _id: string;
  n: number;
}

describe('InsertBatcher on the real store', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await mongoose
      .createConnection(testStoreUrl(), { dbName: uniqueDbName('insert_batcher') })
      .asPromise();
  });
  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('stores every document once and reports the duplicates, inside a batch and against stored ones', async () => {
    const collection = connection.collection<Doc>('docs');
    await collection.insertOne({ _id: 'd-3', n: -1 });
    const batcher = new InsertBatcher<Doc>(async (docs) => collection.insertMany(docs, { ordered: false }), {
      maxBatch: 16,
    });
    const ids = [...Array.from({ length: 40 }, (_, i) => `d-${i}`), 'd-7', 'd-7'];
    const outcomes = await Promise.all(ids.map((id, n) => batcher.insert({ _id: id, n })));

    const duplicates = ids.filter((_, i) => outcomes[i] === 'duplicate');
    expect(duplicates.sort()).toEqual(['d-3', 'd-7', 'd-7']);
    const stored = await collection.find({}).toArray();
    expect(stored).toHaveLength(40);
    // The first writer of each id wins; the stored one was not overwritten.
    expect(stored.find((d) => d._id === 'd-3')?.n).toBe(-1);
    expect(stored.find((d) => d._id === 'd-7')?.n).toBe(7);
  });

  it('rejects every caller of a batch the store did not take', async () => {
    const closed = await mongoose
      .createConnection(testStoreUrl(), { dbName: uniqueDbName('insert_batcher_closed') })
      .asPromise();
    const collection = closed.collection<Doc>('docs');
    await closed.close();
    const batcher = new InsertBatcher<Doc>(async (docs) => collection.insertMany(docs, { ordered: false }), {
      maxBatch: 16,
    });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => batcher.insert({ _id: `x-${n}`, n })));
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });
});
