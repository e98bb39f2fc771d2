import { MongoClient } from 'mongodb';
import * as infra from '../../../deploy/local/infra.cjs';
import { POSTGRESQL_SCAN_PROFILE, SQLITE_SCAN_PROFILE, scanProfile } from './store-scan-profile';

/**
 * Each FerretDB backend this machine has is told apart by what it hands down (`explain`), so that
 * statements by id go to it in the shape it serves best (docs/architecture.md).
 */
describe('the store scan profile, on each FerretDB backend', () => {
  const backends: Array<'sqlite' | 'postgresql'> = ['sqlite'];
  const saved = process.env.STORE_BACKEND;

  beforeAll(async () => {
    if (await infra.postgresqlAnswers()) backends.push('postgresql');
  });

  afterAll(() => {
    if (saved === undefined) delete process.env.STORE_BACKEND;
    else process.env.STORE_BACKEND = saved;
  });

  it("answers SQLite's profile until a collection exists to ask on, then the backend's", async () => {
    for (const backend of backends) {
      process.env.STORE_BACKEND = backend;
      const store = await infra.startStore({});
      const client = await MongoClient.connect(store.url);
      try {
        const db = client.db('t_scan_profile');
        // No collection yet: FerretDB explains nothing, and the safe profile is kept (not remembered).
        expect(await scanProfile(db, 'things')).toBe(SQLITE_SCAN_PROFILE);
        await db.collection('things').insertOne({ _id: 'a' as never });
        expect(await scanProfile(db, 'things')).toBe(
          backend === 'postgresql' ? POSTGRESQL_SCAN_PROFILE : SQLITE_SCAN_PROFILE,
        );
      } finally {
        await client.close();
        await store.stop();
      }
    }
  });
});
