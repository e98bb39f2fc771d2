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
});
