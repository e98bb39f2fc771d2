import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { HISTORY_READ_TIMEOUT_MS } from '@maskline/contracts';
import { pauseProcess, startOwnTestStore, uniqueDbName } from '@maskline/testing';
import { AccountScopedRepository } from './account-scoped.repository';
import { isStoreUnavailableError } from './mongo-errors';

interface Doc {
  _id: string;
  accountId: string;
  n: number;
}

class Records extends AccountScopedRepository<Doc> {
  constructor(model: Model<Doc>, growsWithHistory: boolean) {
    super(model, { growsWithHistory });
  }
  list(accountId: string): Promise<Doc[]> {
    return this.findScoped({ accountId }, { limit: 10, offset: 0 });
  }
}

/**
 * A read of a collection that grows with history answers a request whose caller waits
 * HISTORY_READ_TIMEOUT_MS: it gives up before then (the service can still say "unavailable", and the
 * store stops working on it), where a read without a deadline waits for as long as the store does.
 */
describe('history read deadline (a store of its own, paused, no connection deadline)', () => {
  let store: Awaited<ReturnType<typeof startOwnTestStore>>;
  let connection: Connection;

  beforeAll(async () => {
    store = await startOwnTestStore();
    connection = await mongoose
      .createConnection(store.url, { dbName: uniqueDbName('history_read') })
      .asPromise();
  }, 120_000);

  afterAll(async () => {
    if (store?.pid) process.kill(store.pid, 'SIGCONT');
    await connection?.close();
    await store?.stop();
  });

  it('gives up a history read before its caller would, while an ordinary read waits for the store', async () => {
    const model = connection.model<Doc>(
      'Recorded',
      new Schema<Doc>({ _id: String, accountId: String, n: Number }, { versionKey: false }),
    );
    await model.create([{ _id: 'r1', accountId: 'A', n: 1 }]);
    const history = new Records(model, true);
    const ordinary = new Records(model, false);

    await pauseProcess(Number(store.pid));
    let ordinaryDone = false;
    const waiting = ordinary.list('A').finally(() => (ordinaryDone = true));
    const started = Date.now();
    const [read] = await Promise.allSettled([history.list('A')]);
    const tookMs = Date.now() - started;
    const ordinaryWasWaiting = !ordinaryDone;
    process.kill(Number(store.pid), 'SIGCONT');

    expect(read.status).toBe('rejected');
    expect(isStoreUnavailableError((read as PromiseRejectedResult).reason)).toBe(true);
    expect(tookMs).toBeLessThan(HISTORY_READ_TIMEOUT_MS);
    expect(ordinaryWasWaiting).toBe(true);
    expect(await waiting).toEqual([{ _id: 'r1', accountId: 'A', n: 1 }]);
    // The store answers the history read again once it is back.
    expect(await history.list('A')).toHaveLength(1);
  }, 30_000);
});
