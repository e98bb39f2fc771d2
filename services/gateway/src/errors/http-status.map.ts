import {
  CallErrorCodes,
  ErrorCodes,
  PinErrorCodes,
  PoolErrorCodes,
  SessionErrorCodes,
} from '@maskline/contracts';

/** The one place where error codes become HTTP statuses. Unknown codes are 500. */
const STATUS_BY_CODE: Record<string, number> = {
  [ErrorCodes.VALIDATION]: 400,
  [ErrorCodes.AUTH_FAILED]: 401,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.CONFLICT]: 409,
  [ErrorCodes.RATE_LIMITED]: 429,
  [ErrorCodes.RPC_TIMEOUT]: 503,
  [ErrorCodes.RPC_UNAVAILABLE]: 503,
  [ErrorCodes.CIRCUIT_OPEN]: 503,
  [ErrorCodes.BAD_REPLY]: 500,
  [ErrorCodes.INTERNAL]: 500,
  // The account's pool cannot serve the request: the customer can act (add numbers, end sessions).
  [PoolErrorCodes.EXHAUSTED]: 409,
  [PoolErrorCodes.PARTY_CONFLICT]: 409,
  [PoolErrorCodes.NUMBER_TAKEN]: 409,
  [PoolErrorCodes.CONTENDED]: 503,
  // Only when every number tried was refused by the PIN service.
  [PinErrorCodes.CAPACITY]: 409,
  [PinErrorCodes.CONFLICT]: 409,
  [SessionErrorCodes.ALREADY_EXPIRED]: 400,
  [SessionErrorCodes.IDEMPOTENCY_MISMATCH]: 422,
  [SessionErrorCodes.IDEMPOTENCY_IN_PROGRESS]: 409,
  [ErrorCodes.METHOD_NOT_ALLOWED]: 405,
  [ErrorCodes.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCodes.UNSUPPORTED_MEDIA_TYPE]: 415,
  [CallErrorCodes.FORBIDDEN]: 403,
};

/** Codes whose family (the part before the dot) maps by default: a `POOL.*` error is the caller's 4xx unless listed. */
const STATUS_BY_FAMILY: Record<string, number> = {};

export function httpStatusForCode(code: string): number {
  if (code in STATUS_BY_CODE) return STATUS_BY_CODE[code];
  const family = code.split('.')[0];
  if (family in STATUS_BY_FAMILY) return STATUS_BY_FAMILY[family];
  return 500;
}
