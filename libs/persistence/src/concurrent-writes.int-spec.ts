import { MongoClient, type Collection } from 'mongodb';
import { testStoreUrl, uniqueDbName } from '@maskline/testing';

/**
 * Many writes at once, each matching a document: what the services send under load (an expiry
 * batch's statements by id, concurrent releases). On FerretDB v1.24.2 over PostgreSQL such a write
 * holds one connection of FerretDB's pool for its query while it takes another for the write, and
 * from about 22 at once every one of them waited for a second connection for ever; the project's
 * launcher lets only so many commands in at once (deploy/local/ferretdb/gate.go). On MongoDB, and
 * on SQLite, they simply run.
 */
describe('the store under many concurrent writes', () => {
  let client: MongoClient;
  let docs: Collection<{ _id: string; n: number; pad: string }>;
  const count = 500;

  beforeAll(async () => {
    // As many connections as the writes below, so each goes to the store at once, as the six
    // services' pools (20 each) can send them.
    client = await MongoClient.connect(testStoreUrl(), { maxPoolSize: 128 });
    docs = client.db(uniqueDbName('concurrent_writes')).collection('docs');
    await docs.insertMany(
      Array.from({ length: count }, (_, i) => ({ _id: `d${i}`, n: 0, pad: 'x'.repeat(500) })),
    );
  });

  afterAll(async () => {
    await docs?.drop().catch(() => undefined);
    await client?.close();
  });

  it('finishes 128 updates and then 128 deletes by _id sent together, each changing its document', async () => {
    const ids = Array.from({ length: 128 }, (_, i) => `d${(i * 3) % count}`);
    const updated = await Promise.all(ids.map((_id) => docs.updateOne({ _id }, { $set: { n: 1 } })));
    expect(updated.map((r) => r.modifiedCount)).toStrictEqual(ids.map(() => 1));
    expect(await docs.countDocuments({ n: 1 })).toBe(128);

    const deleted = await Promise.all(ids.map((_id) => docs.deleteOne({ _id })));
    expect(deleted.map((r) => r.deletedCount)).toStrictEqual(ids.map(() => 1));
    expect(await docs.countDocuments({})).toBe(count - 128);
  });
});
