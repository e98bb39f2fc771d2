import { CodedError, ErrorCodes } from '@maskline/contracts';
import { RpcErrorFilter } from './rpc-error-filter';

describe('RpcErrorFilter', () => {
  const filter = new RpcErrorFilter();

  it('passes coded errors through', () => {
    expect(filter.toWire(new CodedError(ErrorCodes.NOT_FOUND, 'no such session'))).toMatchObject({
      code: ErrorCodes.NOT_FOUND,
    });
  });

  it('turns JetStream or KV having nobody to answer (503) or no answer in time into a retryable 503 code, not an internal error', () => {
    for (const natsError of [
      Object.assign(new Error('503'), { code: '503' }),
      Object.assign(new Error('TIMEOUT'), { code: 'TIMEOUT' }),
    ]) {
      expect(filter.toWire(natsError)).toEqual({
        code: ErrorCodes.DEPENDENCY_UNAVAILABLE,
        message: 'a dependency is temporarily unavailable; retry shortly',
        retryable: true,
      });
    }
  });

  it('says nothing of anything else but that it failed', () => {
    expect(filter.toWire(new Error('secret detail: mongodb://user:pass@host'))).toEqual({
      code: ErrorCodes.INTERNAL,
      message: 'internal error',
      retryable: true,
    });
  });

  it('reads a service not answering, a breaker open, a dependency down, JetStream without a leader and a lost connection as unreachable, and nothing else', () => {
    for (const down of [
      new CodedError(ErrorCodes.RPC_UNAVAILABLE, 'number-pool is not available', { retryable: true }),
      new CodedError(ErrorCodes.CIRCUIT_OPEN, 'breaker open', { retryable: true }),
      new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the store is unavailable', { retryable: true }),
      Object.assign(new Error('503'), { code: '503' }),
      Object.assign(new Error('CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' }),
      Object.assign(new Error('JetStream system temporarily unavailable'), {
        api_error: { code: 503, err_code: 10008 },
      }),
      // A service whose store is down answers later than its callers wait.
      new CodedError(ErrorCodes.RPC_TIMEOUT, 'number-pool did not answer in time', { retryable: true }),
    ]) {
      expect(filter.unreachable(down)).toBe(true);
    }
    for (const other of [
      new CodedError(ErrorCodes.ABANDONED, 'given up', { retryable: true }),
      // An answered refusal with a 503 of its own: a bucket full stays full for the next try.
      Object.assign(new Error('maximum bytes exceeded'), {
        code: '503',
        api_error: { code: 503, err_code: 10077, description: 'maximum bytes exceeded' },
      }),
      new CodedError(ErrorCodes.INTERNAL, 'internal error', { retryable: true }),
      new Error('a bug'),
      null,
    ]) {
      expect(filter.unreachable(other)).toBe(false);
    }
  });
});
