import { Test } from '@nestjs/testing';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import pino from 'pino';
import { HealthRegistry, MetricsService, ObservabilityModule } from '@maskline/observability';
import { startOwnTestStore, uniqueDbName } from '@maskline/testing';
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

  afterAll(async () => {
    if (store?.pid) process.kill(store.pid, 'SIGCONT');
    await close?.();
    await store?.stop();
  });

  it('fails a command the paused store does not answer, as unavailable, within the deadline; then works again', async () => {
    const docs = connection.collection('docs');
    await docs.insertOne({ _id: 'a' as never, n: 1 });
    process.kill(Number(store.pid), 'SIGSTOP');
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
    expect(await docs.findOne({ _id: 'a' as never })).toMatchObject({ n: 1 });
  });
});
