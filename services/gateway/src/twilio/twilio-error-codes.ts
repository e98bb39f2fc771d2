import {
  ErrorCodes,
  PoolErrorCodes,
  ProxyErrorCodes,
  SessionErrorCodes,
  errorFamilyOf,
} from '@maskline/contracts';

/**
 * Twilio's error codes for Maskline's, on the Twilio-compatible API: a code listed here, else its
 * family's, else 20500. `more_info` points at Twilio's page for the code (a link for people;
 * Maskline never requests it).
 */
const BY_CODE: Partial<Record<string, number>> = {
  [ErrorCodes.FORBIDDEN]: 20403,
  [ErrorCodes.METHOD_NOT_ALLOWED]: 20004,
  [ErrorCodes.HISTORY_READS_BUSY]: 20503,
  [ProxyErrorCodes.SERVICE_NAME_TAKEN]: 80602,
  [ProxyErrorCodes.NUMBER_NOT_AVAILABLE]: 80601,
  [ProxyErrorCodes.SESSION_NAME_TAKEN]: 80603,
  [ProxyErrorCodes.SESSION_CLOSED]: 80607,
  [ProxyErrorCodes.SESSION_STATUS_INVALID]: 80608,
  [ProxyErrorCodes.PARTICIPANT_LIMIT]: 80609,
  [ProxyErrorCodes.PARTICIPANT_EXISTS]: 80103,
  [ProxyErrorCodes.PARTICIPANT_BUSY]: 80623,
  [ProxyErrorCodes.PROXY_IDENTIFIER_IN_USE]: 80604,
  // No number of the Service can serve the participant.
  [PoolErrorCodes.EXHAUSTED]: 80206,
  [PoolErrorCodes.PARTY_IS_VIRTUAL_NUMBER]: 20001,
  // As many live Sessions as the account may hold: as the empty Sessions' cap (a conflict).
  [SessionErrorCodes.LIVE_SESSIONS_LIMIT]: 20409,
  // An Idempotency-Key reused for another request: its header is the parameter at fault.
  [SessionErrorCodes.IDEMPOTENCY_MISMATCH]: 20001,
};

const BY_FAMILY: Partial<Record<string, number>> = {
  AUTH: 20003,
  NOT_FOUND: 20404,
  VALIDATION: 20001,
  HTTP: 20001,
  RATE_LIMITED: 20429,
  RPC: 20503,
  CONFLICT: 20409,
};

export function twilioCodeOf(code: string, status: number): number {
  if (status === 404) return 20404; // no such route, or no such resource
  return BY_CODE[code] ?? BY_FAMILY[errorFamilyOf(code)] ?? (status === 503 ? 20503 : 20500);
}

/** Twilio's error body: `{ code, message, more_info, status }`. */
export function twilioErrorBody(code: string, status: number, message: string) {
  const twilioCode = twilioCodeOf(code, status);
  return {
    code: twilioCode,
    message,
    more_info: `https://www.twilio.com/docs/errors/${twilioCode}`,
    status,
  };
}

/** Paths of the Twilio-compatible API (they answer in Twilio's error shape). */
export function isTwilioApiPath(path: string): boolean {
  return /^\/v1\/Services(\/|$)/i.test(path); // Express routes ignore case
}
