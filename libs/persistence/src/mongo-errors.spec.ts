import { mongo } from 'mongoose';
import { isDuplicateKeyError, isStoreUnavailableError, isStoreUnreachableError } from './mongo-errors';

const named = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, ...extra });

describe('store error kinds', () => {
  it('counts an unreachable store and a command past its deadline as unavailable, also inside a batch error', () => {
    expect(isStoreUnavailableError(named('MongoOperationTimeoutError'))).toBe(true);
    expect(isStoreUnavailableError(named('MongoNetworkError'))).toBe(true);
    // The driver wraps a batch write's own failure: the timeout is its errorResponse.
    const bulk = named('MongoBulkWriteError', { errorResponse: named('MongoOperationTimeoutError') });
    expect(isStoreUnavailableError(bulk)).toBe(true);
    expect(isStoreUnavailableError(named('Error', { cause: named('MongoNetworkTimeoutError') }))).toBe(true);
    // A paused store resumes, and the driver clears its pool under the commands waiting on it.
    expect(isStoreUnavailableError(named('MongoPoolClearedError'))).toBe(true);
    expect(isStoreUnavailableError(named('MongoServerClosedError'))).toBe(true);
    // Whatever a network error of the driver's is named.
    expect(isStoreUnavailableError(new mongo.MongoNetworkError('connection reset'))).toBe(true);
  });

  it('counts a command the store itself ended at its deadline as unavailable (MongoDB, and FerretDB on both backends)', () => {
    expect(isStoreUnavailableError(named('MongoServerError', { code: 50 }))).toBe(true);
    // A find whose maxTimeMS passed between its batches (seen on FerretDB): the cursor is gone.
    expect(
      isStoreUnavailableError(
        named('MongoServerError', { code: 43, message: 'cursor id 1915110879 not found' }),
      ),
    ).toBe(true);
    // FerretDB v1 on SQLite, as a chaos run's store pause left them: a find, an update, a batch insert.
    const ferret = (message: string, name = 'MongoServerError') =>
      Object.assign(new Error(message), { name, code: 1, codeName: 'InternalError' });
    for (const message of [
      '[msg_find.go:344 handler.handleMaxTimeMSError] [collection.go:94 sqlite.(*collection).Query] interrupted (9)',
      '[msg_update.go:117 handler.(*Handler).updateDocument] [collection.go:94 sqlite.(*collection).Query] interrupted (9)',
      '[msg_insert.go:168 handler.(*Handler).MsgInsert] [db.go:134 fsql.(*DB).InTransaction] interrupted (9)',
      // On PostgreSQL.
      '[msg_insert.go:168 handler.(*Handler).MsgInsert] ERROR: canceling statement due to user request (SQLSTATE 57014)',
      '[msg_update.go:117 handler.(*Handler).updateDocument] context canceled',
      // SQLite's busy timeout for the write lock passed.
      '[msg_insert.go:168 handler.(*Handler).MsgInsert] [db.go:134 fsql.(*DB).InTransaction] database is locked (5) (SQLITE_BUSY)',
    ]) {
      expect(isStoreUnavailableError(ferret(message))).toBe(true);
      expect(isStoreUnavailableError(ferret(message, 'MongoBulkWriteError'))).toBe(true);
    }
    // Any other InternalError is a fault, not the store being slow.
    expect(isStoreUnavailableError(ferret('[msg_update.go:117] unexpected type'))).toBe(false);
    expect(isStoreUnavailableError(named('MongoServerError', { code: 2, message: 'interrupted (9)' }))).toBe(
      false,
    );
  });

  it('does not count a refused write or a plain fault as unavailable', () => {
    const duplicate = named('MongoBulkWriteError', { code: 11000, errorResponse: { code: 11000 } });
    expect(isStoreUnavailableError(duplicate)).toBe(false);
    expect(isDuplicateKeyError(duplicate)).toBe(true);
    expect(isStoreUnavailableError(new TypeError('x is undefined'))).toBe(false);
    expect(isStoreUnavailableError(null)).toBe(false);
  });

  it('tells a store that cannot be reached from one that was only slow for what it was asked', () => {
    for (const down of [
      named('MongoNetworkError'),
      named('MongoServerSelectionError'),
      named('MongoPoolClearedError'),
      new mongo.MongoNetworkError('connection reset'),
      named('Error', { cause: named('MongoNetworkTimeoutError') }),
      // A replica set between primaries: not writable primary, stepped down, shutting down.
      named('MongoServerError', { code: 10107 }),
      named('MongoServerError', { code: 189 }),
      named('MongoWriteConcernError', { code: 11600 }),
      named('MongoBulkWriteError', { errorResponse: named('MongoServerError', { code: 11602 }) }),
      // The command deadline passed while no server could be selected: the store is down, not slow.
      named('MongoOperationTimeoutError', { cause: named('MongoServerSelectionError') }),
    ]) {
      expect(isStoreUnreachableError(down)).toBe(true);
      expect(isStoreUnavailableError(down)).toBe(true);
    }
    for (const slow of [
      named('MongoOperationTimeoutError'),
      named('MongoServerError', { code: 50 }),
      Object.assign(new Error('[msg_find.go:344] interrupted (9)'), { name: 'MongoServerError', code: 1 }),
    ]) {
      expect(isStoreUnreachableError(slow)).toBe(false);
      expect(isStoreUnavailableError(slow)).toBe(true);
    }
    // A code means the store's only on the driver's errors.
    expect(isStoreUnreachableError(Object.assign(new Error('x'), { code: 10107 }))).toBe(false);
    expect(isStoreUnreachableError(named('MongoServerError', { code: 11000 }))).toBe(false);
  });
});
