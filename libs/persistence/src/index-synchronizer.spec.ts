import pino from 'pino';
import type { Connection } from 'mongoose';
import { HealthRegistry } from '@maskline/observability';
import { INDEX_BUILD_RETRY_DELAYS_MS, IndexSynchronizer, isSameIndex } from './index-synchronizer';

/** A connection with one model whose index builds fail with these errors, in turn, then succeed. */
function storeFailing(...failures: Array<{ code?: number; message: string }>) {
  let builds = 0;
  const model = {
    modelName: 'Session',
    db: {
      db: {
        listCollections: () => ({ toArray: async () => [] }),
        createCollection: async () => undefined,
      },
    },
    schema: { indexes: () => [[{ sessionId: 1 }, { unique: true }]] },
    collection: {
      collectionName: 'sessions',
      createIndex: async () => {
        builds++;
        const failure = failures.shift();
        if (failure) throw Object.assign(new Error(failure.message), failure);
      },
    },
  };
  const connection = { models: { Session: model }, db: undefined } as unknown as Connection;
  return {
    synchronizer: new IndexSynchronizer(
      connection,
      pino({ level: 'silent' }),
      new HealthRegistry('test', 'dev'),
    ),
    builds: () => builds,
  };
}

describe('IndexSynchronizer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('tries a build the store interrupted for a moment again, and boots', async () => {
    const store = storeFailing(
      { message: 'indexesCreate] interrupted (9)', code: 1 },
      { message: 'operation exceeded time limit', code: 50 },
    );
    const boot = store.synchronizer.onModuleInit();
    await jest.advanceTimersByTimeAsync(INDEX_BUILD_RETRY_DELAYS_MS[0]! + INDEX_BUILD_RETRY_DELAYS_MS[1]!);
    await expect(boot).resolves.toBeUndefined();
    expect(store.builds()).toBe(3);
  });

  it.each([
    ['duplicates under a unique index (MongoDB)', { message: 'E11000 duplicate key', code: 11000 }],
    ['duplicates under a unique index (FerretDB)', { message: 'UNIQUE constraint failed', code: 1 }],
    ['conflicting options', { message: 'Index with name: a_1 already exists', code: 85 }],
  ])('stops the boot at once for a build that can never succeed: %s', async (_, failure) => {
    const store = storeFailing(failure);
    await expect(store.synchronizer.onModuleInit()).rejects.toThrow(failure.message);
    expect(store.builds()).toBe(1);
  });

  it('stops the boot once the store has failed every try', async () => {
    const store = storeFailing(
      ...Array.from({ length: INDEX_BUILD_RETRY_DELAYS_MS.length + 1 }, () => ({
        message: 'interrupted (9)',
      })),
    );
    const boot = store.synchronizer.onModuleInit();
    const failed = expect(boot).rejects.toThrow('interrupted');
    await jest.advanceTimersByTimeAsync(INDEX_BUILD_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0));
    await failed;
    expect(store.builds()).toBe(INDEX_BUILD_RETRY_DELAYS_MS.length + 1);
  });
});

describe('isSameIndex (what a restarting replica need not build again)', () => {
  const existing = { v: 2, key: { accountId: 1, createdAt: -1 }, name: 'accountId_1_createdAt_-1' };

  it('is the same index: the same keys in the same order, the same defining options', () => {
    expect(isSameIndex(existing, { accountId: 1, createdAt: -1 }, {})).toBe(true);
    expect(
      isSameIndex({ ...existing, unique: true }, { accountId: 1, createdAt: -1 }, { unique: true }),
    ).toBe(true);
    expect(
      isSameIndex(
        { ...existing, name: 'by_account' },
        { accountId: 1, createdAt: -1 },
        { name: 'by_account' },
      ),
    ).toBe(true);
  });

  it.each([
    ['other keys', { accountId: 1 }, {}],
    ['the keys in another order', { createdAt: -1, accountId: 1 }, {}],
    ['another direction', { accountId: 1, createdAt: 1 }, {}],
    ['now unique', { accountId: 1, createdAt: -1 }, { unique: true }],
    ['now sparse', { accountId: 1, createdAt: -1 }, { sparse: true }],
    ['a TTL', { accountId: 1, createdAt: -1 }, { expireAfterSeconds: 60 }],
    ['another name', { accountId: 1, createdAt: -1 }, { name: 'by_account' }],
  ])('is another index (sent to the store, which builds it or refuses it): %s', (_, fields, options) => {
    expect(isSameIndex(existing, fields, options as Record<string, unknown>)).toBe(false);
  });
});
