import {
  ALL_ERROR_CODES,
  CallErrorCodes,
  ErrorCodes,
  PinErrorCodes,
  PoolErrorCodes,
  SERVER_FAULT_CODES,
  SessionErrorCodes,
} from '@maskline/contracts';
import { httpStatusForCode } from './http-status.map';

describe('httpStatusForCode', () => {
  it.each([
    [ErrorCodes.VALIDATION, 400],
    [ErrorCodes.AUTH_FAILED, 401],
    [ErrorCodes.FORBIDDEN, 403],
    [ErrorCodes.NOT_FOUND, 404],
    [ErrorCodes.CONFLICT, 409],
    [ErrorCodes.RATE_LIMITED, 429],
    [ErrorCodes.HISTORY_READS_LIMITED, 429],
    [ErrorCodes.HISTORY_READS_BUSY, 503],
    [ErrorCodes.RPC_TIMEOUT, 503],
    [ErrorCodes.RPC_UNAVAILABLE, 503],
    [ErrorCodes.CIRCUIT_OPEN, 503],
    [ErrorCodes.BAD_REPLY, 500],
    [ErrorCodes.INTERNAL, 500],
    [ErrorCodes.DEPENDENCY_UNAVAILABLE, 503],
    [ErrorCodes.ABANDONED, 503],
    [ErrorCodes.METHOD_NOT_ALLOWED, 405],
    [ErrorCodes.PAYLOAD_TOO_LARGE, 413],
    [ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 415],
    [PoolErrorCodes.EXHAUSTED, 409],
    [PoolErrorCodes.CONTENDED, 503],
    [PoolErrorCodes.PARTY_CONFLICT, 409],
    [PoolErrorCodes.NUMBER_TAKEN, 409],
    [PinErrorCodes.CAPACITY, 409],
    [PinErrorCodes.CONFLICT, 409],
    [SessionErrorCodes.ALREADY_EXPIRED, 400],
    [SessionErrorCodes.END_IN_PROGRESS, 503],
    [SessionErrorCodes.IDEMPOTENCY_MISMATCH, 422],
    [SessionErrorCodes.IDEMPOTENCY_IN_PROGRESS, 409],
    [CallErrorCodes.FORBIDDEN, 403],
    [CallErrorCodes.NO_PROVIDER_CREDENTIALS, 409],
    [CallErrorCodes.PROVIDER_REFUSED, 502],
    [CallErrorCodes.PROVIDER_TIMEOUT, 504],
    [CallErrorCodes.OUTCOME_UNKNOWN, 504],
    [PoolErrorCodes.NUMBER_NOT_HELD, 422],
    [PoolErrorCodes.PROVIDER_CREDENTIALS_REFUSED, 422],
    [PoolErrorCodes.PROVIDER_UNAVAILABLE, 503],
    ['SOMETHING.UNKNOWN', 500],
  ])('%s → %i', (code, status) => {
    expect(httpStatusForCode(code)).toBe(status);
  });

  it('answers every code in contracts with a deliberate status: 5xx only for the service’s own failures', () => {
    const serverSide = new Set<string>([
      ...SERVER_FAULT_CODES,
      ErrorCodes.EVENT_INVALID,
      ErrorCodes.EVENT_GIVEN_UP,
      ErrorCodes.EVENT_FORGOTTEN,
      // What a service sent was too large for NATS: its own bug (and no breaker's business).
      ErrorCodes.NATS_REFUSED,
      PoolErrorCodes.CONTENDED,
      SessionErrorCodes.END_IN_PROGRESS,
      ErrorCodes.HISTORY_READS_BUSY,
      CallErrorCodes.PROVIDER_REFUSED,
      CallErrorCodes.PROVIDER_TIMEOUT,
      CallErrorCodes.OUTCOME_UNKNOWN,
      PoolErrorCodes.PROVIDER_UNAVAILABLE,
    ]);
    for (const code of Object.values(ALL_ERROR_CODES)) {
      const status = httpStatusForCode(code);
      expect([code, status >= 500]).toEqual([code, serverSide.has(code)]);
    }
  });
});
