import { CodedError, ErrorCodes, mayHaveHappened } from '@maskline/contracts';
import { StoreRpcErrorFilter } from './store-rpc-error.filter';

describe('StoreRpcErrorFilter', () => {
  const filter = new StoreRpcErrorFilter();

  it('answers a store that did not answer in time with a retryable code the caller compensates on', () => {
    const timedOut = Object.assign(new Error('operation exceeded time limit'), {
      name: 'MongoOperationTimeoutError',
    });
    const wire = filter.toWire(timedOut);
    expect(wire).toEqual({
      code: ErrorCodes.DEPENDENCY_UNAVAILABLE,
      message: 'the store is unavailable',
      retryable: true,
    });
    // The write may still be carried out: a saga must give back what it asked for, not forget it.
    expect(mayHaveHappened(CodedError.fromWire(wire))).toBe(true);
  });

  it('reads a store it cannot reach as unreachable, and one past its deadline as not (slow for what it was asked)', () => {
    expect(filter.unreachable(Object.assign(new Error('reset'), { name: 'MongoNetworkError' }))).toBe(true);
    expect(filter.unreachable(Object.assign(new Error('late'), { name: 'MongoOperationTimeoutError' }))).toBe(
      false,
    );
    expect(filter.unreachable(new TypeError('x is undefined'))).toBe(false);
  });
});
