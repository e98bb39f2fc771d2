import { randomUUID } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { testStoreUrl, uniqueDbName } from '@maskline/testing';
import { UnannouncedUpdateDocument, UnannouncedUpdateSchema } from './unannounced-update.schema';
import { UnannouncedUpdates } from './unannounced-updates.repository';

describe('notes of session changes not yet announced (real store)', () => {
  let connection: Connection;
  let notes: UnannouncedUpdates;
  const ACCOUNT = 'MANOTENOTENOTENOTE01';

  beforeAll(async () => {
    connection = await mongoose
      .createConnection(testStoreUrl(), { dbName: uniqueDbName('unannounced_updates') })
      .asPromise();
    const model = connection.model(UnannouncedUpdateDocument.name, UnannouncedUpdateSchema);
    await model.init();
    notes = new UnannouncedUpdates(model);
  });

  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('a session is noted once however often its changes fail, listed for the sweep, and gone once forgotten', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await notes.note(ACCOUNT, a);
    await notes.note(ACCOUNT, a);
    await notes.note(ACCOUNT, b);
    expect((await notes.pendingSystemWide(10)).map((n) => n._id).sort()).toEqual([a, b].sort());
    expect(await notes.pendingSystemWide(1)).toHaveLength(1);
    await notes.forgetSystemWide(a);
    expect((await notes.pendingSystemWide(10)).map((n) => n._id)).toEqual([b]);
  });
});
