import {
  CallErrorCodes,
  ErrorCodes,
  PoolErrorCodes,
  SessionErrorCodes,
  errorFamilyOf,
  type ErrorFamily,
} from '@maskline/contracts';

/**
 * The one place where error codes become HTTP statuses: a code's family gives the status, and a
 * code listed below overrides it. The family table is typed over every code in contracts, so a
 * new family does not compile until it is given a status here. Unknown codes are 500.
 */
const STATUS_BY_FAMILY: Record<ErrorFamily, number> = {
  VALIDATION: 400,
  AUTH: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  // A service behind the gateway did not answer: the request may succeed if repeated.
  RPC: 503,
  INTERNAL: 500,
  // Durable-event failures end in a consumer, never in an HTTP answer; 500 if one ever leaks.
  EVENT: 500,
  HTTP: 400,
  // The account's pool cannot serve the request: the customer can act (add numbers, end sessions).
  POOL: 409,
  // Only when every number tried was refused by the PIN service.
  PIN: 409,
  SESSION: 409,
  // The carrier (the account's provider) refused or failed what Maskline asked of it.
  CALL: 502,
};

const STATUS_BY_CODE: Partial<Record<string, number>> = {
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.BAD_REPLY]: 500,
  // JetStream or KV was away for a moment: the request may succeed if repeated.
  [ErrorCodes.DEPENDENCY_UNAVAILABLE]: 503,
  // Given up by the service's own reaper, nothing made: the request may succeed if repeated.
  [ErrorCodes.ABANDONED]: 503,
  [ErrorCodes.METHOD_NOT_ALLOWED]: 405,
  [ErrorCodes.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCodes.UNSUPPORTED_MEDIA_TYPE]: 415,
  [PoolErrorCodes.CONTENDED]: 503,
  [PoolErrorCodes.PARTY_IS_VIRTUAL_NUMBER]: 400,
  // The request is well formed; the provider says its account does not hold the number, or refuses
  // the credentials: the customer must correct them.
  [PoolErrorCodes.NUMBER_NOT_HELD]: 422,
  [PoolErrorCodes.PROVIDER_CREDENTIALS_REFUSED]: 422,
  // The customer's provider did not answer clearly: the request may succeed if repeated.
  [PoolErrorCodes.PROVIDER_UNAVAILABLE]: 503,
  // Load shed, not the account's doing: the request may succeed if repeated.
  [ErrorCodes.HISTORY_READS_BUSY]: 503,
  [SessionErrorCodes.ALREADY_EXPIRED]: 400,
  // Another replica is ending the session: the request may succeed if repeated.
  [SessionErrorCodes.END_IN_PROGRESS]: 503,
  [SessionErrorCodes.IDEMPOTENCY_MISMATCH]: 422,
  [CallErrorCodes.FORBIDDEN]: 403,
  // The number cannot be used until the account gives it provider credentials.
  [CallErrorCodes.NO_PROVIDER_CREDENTIALS]: 409,
  [CallErrorCodes.PROVIDER_TIMEOUT]: 504,
  // An earlier try's outcome was not recorded: as a timeout, the call may have been placed.
  [CallErrorCodes.OUTCOME_UNKNOWN]: 504,
};

export function httpStatusForCode(code: string): number {
  return STATUS_BY_CODE[code] ?? (STATUS_BY_FAMILY as Record<string, number>)[errorFamilyOf(code)] ?? 500;
}
