import { mongo } from 'mongoose';
import { isDuplicateKeyError, isStoreUnavailableError } from './mongo-errors';

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

  it('does not count a refused write or a plain fault as unavailable', () => {
    const duplicate = named('MongoBulkWriteError', { code: 11000, errorResponse: { code: 11000 } });
    expect(isStoreUnavailableError(duplicate)).toBe(false);
    expect(isDuplicateKeyError(duplicate)).toBe(true);
    expect(isStoreUnavailableError(new TypeError('x is undefined'))).toBe(false);
    expect(isStoreUnavailableError(null)).toBe(false);
  });
});
