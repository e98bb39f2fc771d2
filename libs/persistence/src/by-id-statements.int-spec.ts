import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { testStoreUrl, uniqueDbName } from '@maskline/testing';
import { AccountScopedRepository, type ScopedKey } from './account-scoped.repository';
import { ONE_STATEMENT_FROM } from './by-id-statements';

interface Doc {
  _id: string;
  accountId: string;
  state: string;
}

/** The statements under test, as a service's repository uses them. */
class Docs extends AccountScopedRepository<Doc> {
  constructor(model: Model<Doc>) {
    super(model);
  }
  deleteEach = (keys: ScopedKey[]) => this.deleteEachScoped(keys);
  updateEach = (keys: ScopedKey[], state: string) => this.updateEachScoped(keys, { $set: { state } });
  deleteIds = (ids: string[], also: Partial<Doc>) => this.systemWide.deleteByIds(ids, also);
  updateIds = (ids: string[], also: Partial<Doc>, state: string) =>
    this.systemWide.updateByIds(ids, also, { $set: { state } });
  updateOne = (filter: Partial<Doc> & { accountId: string }, state: string) =>
    this.updateOneScoped(filter, { $set: { state } });
  deleteOne = (filter: Partial<Doc> & { accountId: string }) => this.deleteScoped(filter);
}

/** The same, over documents whose id may be written again under another account, or not (`moving`). */
class MovingDocs extends AccountScopedRepository<Doc> {
  constructor(model: Model<Doc>, moving: boolean) {
    super(model, { idsChangeAccount: moving });
    // As FerretDB with SQLite answers, whatever this suite's store is: a guard beside an id is not
    // handed down, so a statement by id and account is checked on a copy read just before it.
    this.systemWide.byIdReads.guardsHandedDown = async () => false;
  }
  updateOne = (filter: Partial<Doc> & { accountId: string }, state: string) =>
    this.updateOneScoped(filter, { $set: { state } });
}

describe('statements by id on the real store, few (one per id) and many (one for all)', () => {
  let connection: Connection;
  let n = 0;
  const fresh = async (count: number) => {
    const model = connection.model<Doc>(
      `ByIdDoc${n++}`,
      new Schema<Doc>({ _id: String, accountId: String, state: String }, { versionKey: false }),
    );
    // Even ids are account A's, odd ones B's; every other one of each is "done".
    await model.insertMany(
      Array.from({ length: count }, (_, i) => ({
        _id: `d-${i}`,
        accountId: i % 2 === 0 ? 'A' : 'B',
        state: i % 4 < 2 ? 'open' : 'done',
      })),
    );
    return { model, docs: new Docs(model) };
  };
  const left = async (model: Model<Doc>) =>
    (await model.find({}).sort({ _id: 1 }).lean()).map((d) => `${d._id}:${d.state}`);

  beforeAll(async () => {
    connection = await mongoose
      .createConnection(testStoreUrl(), { dbName: uniqueDbName('by_id_statements') })
      .asPromise();
  });
  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  describe.each([
    ['few', 3],
    ['many', ONE_STATEMENT_FROM + 4],
  ])('%s', (_, size) => {
    const count = 2 * size + 8;
    // `size` ids of account A, each asked for as A's and as B's: only A's own go.
    const aIds = Array.from({ length: size }, (_, i) => `d-${2 * i}`);
    const asA = aIds.map((_id) => ({ accountId: 'A', _id }));
    const asB = aIds.map((_id) => ({ accountId: 'B', _id }));

    it('deletes each document within its own account, never another account’s of that id', async () => {
      const { model, docs } = await fresh(count);
      await docs.deleteEach([...asB, { accountId: 'A', _id: 'no-such' }]);
      expect(await model.countDocuments({})).toBe(count);

      await docs.deleteEach([...asA, ...asB]);

      expect(await model.countDocuments({})).toBe(count - size);
      expect(await model.countDocuments({ _id: { $in: aIds } })).toBe(0);
    });

    it('updates each document within its own account, never another account’s of that id', async () => {
      const { model, docs } = await fresh(count);
      const before = await left(model);
      await docs.updateEach(asB, 'stolen');
      expect(await left(model)).toEqual(before);

      await docs.updateEach(asA, 'closed');

      expect(await model.countDocuments({ state: 'closed' })).toBe(size);
      expect(await model.countDocuments({ _id: { $in: aIds }, state: 'closed' })).toBe(size);
    });

    it('system-wide: deletes and updates by id only the documents that match the rest of the filter too', async () => {
      const { model, docs } = await fresh(count);
      const ids = Array.from({ length: size }, (_, i) => `d-${i}`);
      const open = ids.filter((id) => Number(id.slice(2)) % 4 < 2);

      expect(await docs.updateIds(ids, { state: 'open' }, 'closing')).toBe(open.length);
      expect((await model.find({ state: 'closing' }).lean()).map((d) => d._id).sort()).toEqual(
        [...open].sort(),
      );
      expect(await docs.deleteIds(ids, { state: 'closing' })).toBe(open.length);

      expect(await model.countDocuments({})).toBe(count - open.length);
      expect(await model.countDocuments({ _id: { $in: open } })).toBe(0);
    });
  });

  it('one statement by id and account (and a state) reaches only a document that has them all', async () => {
    const { model, docs } = await fresh(8);
    // d-0: A, open; d-1: B, open; d-2: A, done.
    expect(await docs.updateOne({ _id: 'd-0', accountId: 'B' }, 'stolen')).toBe(0);
    expect(await docs.updateOne({ _id: 'd-2', accountId: 'A', state: 'open' }, 'reopened')).toBe(0);
    expect(await docs.updateOne({ _id: 'd-0', accountId: 'A', state: 'open' }, 'closed')).toBe(1);
    await docs.deleteOne({ _id: 'd-1', accountId: 'A' });
    await docs.deleteOne({ _id: 'd-2', accountId: 'A', state: 'open' });

    expect(await left(model)).toEqual([
      'd-0:closed',
      'd-1:open',
      'd-2:done',
      'd-3:done',
      'd-4:open',
      'd-5:open',
      'd-6:done',
      'd-7:done',
    ]);
    await docs.deleteOne({ _id: 'd-1', accountId: 'B' });
    expect(await model.countDocuments({ _id: 'd-1' })).toBe(0);
  });

  it.each([
    [true, 'reaches nothing', 0, 'new owner'],
    [false, 'reaches the new owner’s document (why ids that change account say so)', 1, 'written by A'],
  ])(
    'a statement by id and account landing as its document changed hands, ids changing account %s: %s',
    async (moving, _what, matched, state) => {
      const { model } = await fresh(2);
      // Account A's d-0 is taken by account C between the copy a statement reads and the statement.
      const original = model.updateOne.bind(model);
      let moved = false;
      model.updateOne = ((filter: object, update: object) => ({
        exec: async () => {
          if (!moved) {
            moved = true;
            await model.deleteOne({ _id: 'd-0' });
            await model.create({ _id: 'd-0', accountId: 'C', state: 'new owner' });
          }
          return original(filter as never, update as never).exec();
        },
      })) as never;
      expect(
        await new MovingDocs(model, moving).updateOne({ _id: 'd-0', accountId: 'A' }, 'written by A'),
      ).toBe(matched);
      expect((await model.findById('d-0').lean())?.state).toBe(state);
    },
  );

  it('refuses an operator in place of an id, which would reach documents it does not name', async () => {
    const { model, docs } = await fresh(4);
    const operator = { $ne: 'd-0' } as unknown as string;

    await expect(docs.deleteEach([{ accountId: 'A', _id: operator }])).rejects.toThrow(TypeError);
    await expect(docs.updateEach([{ accountId: 'A', _id: operator }], 'stolen')).rejects.toThrow(TypeError);
    await expect(docs.deleteIds([operator], {})).rejects.toThrow(TypeError);

    expect(await model.countDocuments({})).toBe(4);
    expect(await model.countDocuments({ state: 'stolen' })).toBe(0);
  });
});
