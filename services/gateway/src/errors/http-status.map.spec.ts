import { ErrorCodes } from '@maskline/contracts';
import { httpStatusForCode } from './http-status.map';

describe('httpStatusForCode', () => {
  it.each([
    [ErrorCodes.VALIDATION, 400],
    [ErrorCodes.AUTH_FAILED, 401],
    [ErrorCodes.NOT_FOUND, 404],
    [ErrorCodes.RATE_LIMITED, 429],
    [ErrorCodes.RPC_TIMEOUT, 503],
    [ErrorCodes.CIRCUIT_OPEN, 503],
    [ErrorCodes.INTERNAL, 500],
    ['SOMETHING.UNKNOWN', 500],
  ])('%s → %i', (code, status) => {
    expect(httpStatusForCode(code)).toBe(status);
  });
});
