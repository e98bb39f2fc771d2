import { readFileSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import { expectEventually, restoringEnv } from '@maskline/testing';
import * as infra from '../../../deploy/local/infra.cjs';

/**
 * Every delete and update FerretDB makes on PostgreSQL leaves a dead row, which only a VACUUM clears.
 * Where the server's autovacuum is off (this machine's CI PostgreSQL), the local store's launcher
 * vacuums its database itself (deploy/local/ferretdb/vacuum.go); otherwise its hot tables grow with
 * history, and every scan and lookup reads the dead rows too.
 */
describe('dead rows on the local store’s PostgreSQL backend', () => {
  restoringEnv('STORE_BACKEND');

  it('are vacuumed from a collection that turns over, whether or not the server’s autovacuum is on', async () => {
    const backend = (await infra.postgresqlAnswers()) ? 'postgresql' : 'sqlite';
    process.env.STORE_BACKEND = backend;
    const store = await infra.startStore({});
    const client = await MongoClient.connect(store.url);
    try {
      const churned = client.db('t_vacuum').collection('churned');
      // What a hot table's day looks like in small: written and deleted, a few live rows left.
      for (let round = 0; round < 3; round++) {
        await churned.insertMany(
          Array.from({ length: 400 }, (_, i) => ({ _id: `${round}-${i}` })) as never[],
        );
        await churned.deleteMany({});
      }
      await churned.insertOne({ _id: 'live' } as never);
      const log = () => readFileSync(store.logFile, 'utf8');
      if (backend === 'postgresql') {
        // The launcher says who vacuums: the server, or (its autovacuum off) the launcher itself,
        // which then finds the collection's table (FerretDB names it after the collection).
        expect(log()).toMatch(/autovacuum is (on on|off on) this server/);
        if (/autovacuum is off on this server/.test(log())) {
          await expectEventually(
            () => expect(log()).toMatch(/vacuumed [^\n]*\.churned_[0-9a-f]+ \(\d+ dead rows\)/),
            { timeoutMs: 30_000, intervalMs: 250 },
          );
        }
      }
      // The store answers as before, whatever was vacuumed under it.
      expect(await churned.find({}).toArray()).toEqual([{ _id: 'live' }]);
    } finally {
      await client.close();
      await store.stop();
    }
  });
});
