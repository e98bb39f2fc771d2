import { Test } from '@nestjs/testing';
import { getConnectionToken } from '@nestjs/mongoose';
import { Schema, type Connection } from 'mongoose';
import pino from 'pino';
import { HealthRegistry, MetricsService, ObservabilityModule } from '@maskline/observability';
import { expectEventually, pauseProcess, startOwnTestStore, uniqueDbName } from '@maskline/testing';
import { SystemWideQueries } from './account-scoped.repository';
import { isStoreUnavailableError } from './mongo-errors';
import { PersistenceModule } from './persistence.module';

/**
 * A store that stops answering (here: its process paused, as a stalled disk or a GC pause would) must
 * not hold a service's commands for ever: each fails after the command deadline as "unavailable", and
 * the service works again as soon as the store does.
 */
describe('store command deadline (a store of its own, paused)', () => {
  let store: Awaited<ReturnType<typeof startOwnTestStore>>;
  let connection: Connection;
  let close: () => Promise<void>;

  beforeAll(async () => {
    store = await startOwnTestStore();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ObservabilityModule.forRoot({
          logger: pino({ level: 'silent' }),
          metrics: new MetricsService('test'),
          health: new HealthRegistry('test', 'test'),
        }),
        PersistenceModule.forRoot({
          uri: store.url,
          dbName: uniqueDbName('deadline'),
          commandTimeoutMs: 500,
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication();
    await app.init();
    connection = app.get<Connection>(getConnectionToken());
    close = () => app.close();
  }, 120_000);

  /**
   * A set-up write, asked again if the 500 ms deadline cuts it short on a busy machine (a first
   * write creates the store's files): idempotent, so one that landed unanswered is no harm.
   */
  const put = (collection: string, docs: Array<{ _id: string; n: number }>) =>
    expectEventually(async () => {
      for (const d of docs) {
        await connection.collection(collection).replaceOne({ _id: d._id as never }, d, { upsert: true });
      }
    });

  afterAll(async () => {
    if (store?.pid) process.kill(store.pid, 'SIGCONT');
    await close?.();
    await store?.stop();
  });

  it('fails a command the paused store does not answer, as unavailable, within the deadline; then works again', async () => {
    const docs = connection.collection('docs');
    await put('docs', [{ _id: 'a', n: 1 }]);
    await pauseProcess(Number(store.pid));
    const started = Date.now();
    let failure: unknown;
    try {
      await docs.findOne({ _id: 'a' as never });
    } catch (err) {
      failure = err;
    }
    const tookMs = Date.now() - started;
    process.kill(Number(store.pid), 'SIGCONT');
    expect(failure).toBeDefined();
    expect(isStoreUnavailableError(failure)).toBe(true);
    // The deadline (500 ms), not the store's pause, ended it: well before the 5 s server selection.
    expect(tookMs).toBeLessThan(4000);
    // Works again once the store answers (the driver may first have to reconnect).
    await expectEventually(async () =>
      expect(await docs.findOne({ _id: 'a' as never })).toMatchObject({ n: 1 }),
    );
  });

  it('gives a history sweep’s commands a deadline of their own: they outlast a pause the ordinary deadline fails in', async () => {
    const model = connection.model('SweptDoc', new Schema({ _id: String, n: Number }), 'swept');
    await put('swept', [
      { _id: 'b', n: 2 },
      { _id: 'c', n: 5 },
    ]);
    const ordinary = new SystemWideQueries(model);
    const sweep = new SystemWideQueries(model, { timeoutMs: 30_000 });

    // The store is paused (a scan that takes that long, as far as the caller can tell).
    await pauseProcess(Number(store.pid));
    const sweeps = Promise.allSettled([
      sweep.find({ n: 2 }),
      sweep.updateMany({ n: 5 }, { $set: { n: 6 } }),
      sweep.deleteMany({ n: 3 }),
    ]);
    // The store answers again only once the ordinary command has given up on it: the sweep's
    // commands, sent with it, have outlasted the ordinary deadline by then.
    const [plain] = await Promise.allSettled([ordinary.find({ n: 2 })]);
    process.kill(Number(store.pid), 'SIGCONT');
    const [swept, updated, deleted] = await sweeps;

    expect(plain.status).toBe('rejected');
    expect(isStoreUnavailableError((plain as PromiseRejectedResult).reason)).toBe(true);
    expect(swept).toMatchObject({ status: 'fulfilled', value: [{ _id: 'b', n: 2 }] });
    expect(updated).toMatchObject({ status: 'fulfilled', value: 1 });
    expect(deleted).toMatchObject({ status: 'fulfilled', value: 0 });
  });
});
