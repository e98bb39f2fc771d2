import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { testStoreUrl, uniqueDbName } from '@maskline/testing';
import { historySweepQueries } from './account-scoped.repository';

interface Doc {
  _id: string;
  accountId: string;
  at: Date;
}

const T = Date.UTC(2026, 0, 1);

describe('a history sweep’s range deletes on the real store (SystemWideQueries.deleteDue)', () => {
  let connection: Connection;
  let n = 0;
  const model = (): Model<Doc> =>
    connection.model<Doc>(
      `Doc${n++}`,
      new Schema<Doc>({ _id: String, accountId: String, at: Date }, { versionKey: false }).index({ at: 1 }),
    );

  beforeAll(async () => {
    connection = await mongoose
      .createConnection(testStoreUrl(), { dbName: uniqueDbName('range_sweep') })
      .asPromise();
  });
  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  const docs = (prefix: string, count: number, at: (i: number) => number, accountId = 'A') =>
    Array.from({ length: count }, (_, i) => ({ _id: `${prefix}-${i}`, accountId, at: new Date(at(i)) }));

  it.each([
    ['deleteDue', (m: Model<Doc>) => historySweepQueries(m).deleteDue({}, 'at', new Date(T + 40_000))],
    [
      'deleteAll',
      (m: Model<Doc>) => historySweepQueries(m).deleteAll({ at: { $lt: new Date(T + 40_000) } }, 'at'),
    ],
  ])(
    '%s: deletes more due records than one store statement may match, and none that is not due',
    async (_, sweep) => {
      // FerretDB deletes what a filter matched with one SQL statement binding every matched id:
      // SQLite takes 32,766 at most, so one deleteMany of all of these fails there.
      const m = model();
      const due = docs('due', 33_000, (i) => T + i);
      for (let i = 0; i < due.length; i += 5000) await m.insertMany(due.slice(i, i + 5000));
      await m.insertMany(docs('young', 50, (i) => T + 40_000 + i));

      const deleted = await sweep(m);

      expect(deleted).toBe(33_000);
      expect(await m.countDocuments({})).toBe(50);
      expect(await m.countDocuments({ _id: /^young-/ })).toBe(50);
    },
    // 33,000 inserts and deletes on FerretDB share two cores with the other worker's suite.
    180_000,
  );

  it('deleteAll: one statement when the store takes it (no read to find a range)', async () => {
    const m = model();
    await m.insertMany([...docs('s1', 30, (i) => T + i, 'A'), ...docs('other', 5, (i) => T + i, 'B')]);
    const find = jest.spyOn(m, 'find');
    const deleteMany = jest.spyOn(m, 'deleteMany');

    expect(await historySweepQueries(m).deleteAll({ accountId: 'A' }, 'at')).toBe(30);
    expect([find.mock.calls.length, deleteMany.mock.calls.length]).toEqual([0, 1]);
    expect(await m.countDocuments({})).toBe(5);
  });

  it('deleteDue: a store error other than "too many matches" fails the sweep at once, never slices it quietly', async () => {
    const m = model();
    await m.insertMany(docs('due', 10, (i) => T + i));
    jest.spyOn(m, 'deleteMany').mockImplementationOnce(() => {
      throw Object.assign(new Error('not authorized on callback_dispatcher'), { code: 13 });
    });
    const find = jest.spyOn(m, 'find');

    await expect(historySweepQueries(m).deleteDue({}, 'at', new Date(T + 40_000))).rejects.toThrow(
      'not authorized',
    );
    expect(find).not.toHaveBeenCalled();
    expect(await m.countDocuments({})).toBe(10);
  });

  it('slices where many records share one instant: each deleted once, none left, the rest kept', async () => {
    const m = model();
    // 5 a millisecond before T, 10 at T exactly, with slices of 4: the 5th and the 10 share a bound.
    await m.insertMany([
      ...docs('before', 5, () => T - 1),
      ...docs('at', 10, () => T),
      ...docs('after', 3, () => T + 5),
    ]);
    const sweeps = historySweepQueries(m);
    const slices: string[][] = [];
    let slice = await sweeps.dueSlice({}, 'at', new Date(T + 1), 4);
    while (slice) {
      expect(slice.ids.length).toBeLessThanOrEqual(4);
      // The slice's filter matches exactly its ids.
      const matched = (await m.find(slice.filter, { _id: 1 }).lean()).map((d) => d._id).sort();
      expect(matched).toEqual([...slice.ids].sort());
      slices.push(slice.ids);
      await sweeps.deleteMany(slice.filter);
      if (slice.last) break;
      slice = await sweeps.dueSlice({}, 'at', new Date(T + 1), 4);
    }

    expect(slices.flat().sort()).toEqual(
      [...docs('before', 5, () => 0), ...docs('at', 10, () => 0)].map((d) => d._id).sort(),
    );
    expect((await m.find({}, { _id: 1 }).lean()).map((d) => d._id).sort()).toEqual([
      'after-0',
      'after-1',
      'after-2',
    ]);
  });

  it('keeps what the filter leaves out, and stops at the slices it may take in one call', async () => {
    const m = model();
    await m.insertMany([...docs('a', 9, (i) => T + i, 'A'), ...docs('k', 3, (i) => T + i, 'KEEP')]);
    const sweeps = historySweepQueries(m);
    const filter = { accountId: { $nin: ['KEEP'] } };

    const handed: string[][] = [];
    const beforeEach = async (ids: string[]) => {
      // Each slice's ids come while its records are still there (a cascade deletes what is theirs first).
      expect(await m.countDocuments({ _id: { $in: ids } })).toBe(ids.length);
      handed.push(ids);
    };
    expect(
      await sweeps.deleteDue(filter, 'at', new Date(T + 100), { sliceSize: 2, maxSlices: 3, beforeEach }),
    ).toBe(6);
    expect(handed).toHaveLength(3);
    handed.length = 0;
    expect(await sweeps.deleteDue(filter, 'at', new Date(T + 100), { sliceSize: 2, beforeEach })).toBe(3);
    expect(handed.flat().sort()).toEqual(['a-6', 'a-7', 'a-8']);
    expect(await m.countDocuments({ accountId: 'KEEP' })).toBe(3);
    expect(await m.countDocuments({})).toBe(3);
  });

  it('deletes what is due in one statement when nothing is to go first and the store takes it (no sorted read)', async () => {
    const m = model();
    await m.insertMany([
      ...docs('due', 40, (i) => T + i, 'A'),
      ...docs('kept', 3, (i) => T + i, 'KEEP'),
      ...docs('young', 5, (i) => T + 1_000 + i, 'A'),
    ]);
    const find = jest.spyOn(m, 'find');
    const deleteMany = jest.spyOn(m, 'deleteMany');

    expect(
      await historySweepQueries(m).deleteDue({ accountId: { $nin: ['KEEP'] } }, 'at', new Date(T + 1_000)),
    ).toBe(40);
    expect([find.mock.calls.length, deleteMany.mock.calls.length]).toEqual([0, 1]);
    expect((await m.find({}, { _id: 1 }).lean()).map((d) => d._id).sort()).toEqual(
      [...docs('kept', 3, () => 0), ...docs('young', 5, () => 0)].map((d) => d._id).sort(),
    );
  });

  it('passes over what a filter matches a batch at a time through one cursor, with a deadline per batch, and stops when told', async () => {
    const m = model();
    await m.insertMany([...docs('in', 5, (i) => T + i), ...docs('out', 2, (i) => T + 1_000 + i)]);
    const sweeps = historySweepQueries(m);
    const batches: string[][] = [];
    await sweeps.eachBatch({ at: { $lt: new Date(T + 1_000) } }, 2, async (batch) => {
      batches.push(batch.map((d) => d._id));
    });
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1]);
    expect(batches.flat().sort()).toEqual(docs('in', 5, () => 0).map((d) => d._id));

    // Told to stop after the first batch: no more handed, and the store is written right after.
    let handed = 0;
    await sweeps.eachBatch({}, 2, async () => {
      handed++;
      return false;
    });
    expect(handed).toBe(1);
    expect(await sweeps.deleteByIds(['in-0', 'in-1'])).toBe(2);
    // A failure in a batch reaches the caller.
    await expect(
      sweeps.eachBatch({}, 2, async () => {
        throw new Error('the batch failed');
      }),
    ).rejects.toThrow('the batch failed');
    expect(await m.countDocuments({})).toBe(5);
  });
});
