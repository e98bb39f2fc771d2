import mongoose, { Schema } from 'mongoose';
import pino from 'pino';
import { HealthRegistry } from '@maskline/observability';
import { testStoreUrl, uniqueDbName } from '@maskline/testing';
import { IndexSynchronizer } from './index-synchronizer';

describe('index builds at boot on the real store', () => {
  it('builds every index with no deadline, though the connection has one (a large build is not cut short)', async () => {
    const connection = await mongoose
      .createConnection(testStoreUrl(), {
        dbName: uniqueDbName('index_boot'),
        timeoutMS: 3000,
        monitorCommands: true,
        autoIndex: false,
        autoCreate: false,
      } as mongoose.ConnectOptions)
      .asPromise();
    try {
      const sent: Array<Record<string, unknown>> = [];
      connection.getClient().on('commandStarted', (e) => {
        if (e.commandName === 'createIndexes' || e.commandName === 'create') sent.push(e.command);
      });
      const model = connection.model(
        'Booted',
        new Schema({ a: String, b: Date }).index({ a: 1 }, { unique: true }).index({ b: 1 }),
      );

      await new IndexSynchronizer(
        connection,
        pino({ level: 'silent' }),
        new HealthRegistry('t', 'dev'),
      ).onModuleInit();

      expect(sent.map((c) => Object.keys(c).find((k) => k === 'create' || k === 'createIndexes'))).toEqual([
        'create',
        'createIndexes',
        'createIndexes',
      ]);
      expect(sent.filter((c) => 'maxTimeMS' in c)).toEqual([]);
      const names = (await model.collection.indexes()).map((i) => i.name).sort();
      expect(names).toEqual(['_id_', 'a_1', 'b_1']);
      // Booting again (a restart) finds it all in place: on FerretDB it writes nothing to the store's
      // catalogue; on MongoDB it sends each index again (a no-op for a built one, a wait for one in
      // progress), never the collection.
      const ferret = 'ferretdbVersion' in (await connection.db!.admin().command({ buildInfo: 1 }));
      sent.length = 0;
      await new IndexSynchronizer(
        connection,
        pino({ level: 'silent' }),
        new HealthRegistry('t', 'dev'),
      ).onModuleInit();
      expect(sent.map((c) => Object.keys(c)[0])).toEqual(ferret ? [] : ['createIndexes', 'createIndexes']);
      sent.length = 0;

      // A new version's schema with one more index: only that one is built.
      connection.deleteModel('Booted');
      connection.model(
        'Booted',
        new Schema({ a: String, b: Date, c: Number })
          .index({ a: 1 }, { unique: true })
          .index({ b: 1 })
          .index({ c: 1, b: -1 }),
      );
      await new IndexSynchronizer(
        connection,
        pino({ level: 'silent' }),
        new HealthRegistry('t', 'dev'),
      ).onModuleInit();
      expect(sent.map((c) => (c.indexes as Array<{ name: string }>).map((i) => i.name))).toEqual(
        ferret ? [['c_1_b_-1']] : [['a_1'], ['b_1'], ['c_1_b_-1']],
      );
      expect((await model.collection.indexes()).map((i) => i.name).sort()).toEqual([
        '_id_',
        'a_1',
        'b_1',
        'c_1_b_-1',
      ]);
    } finally {
      await connection.dropDatabase();
      await connection.close();
    }
  });
});
