/** Codes of the telephony edge and the call router. */
export const CallErrorCodes = {
  /**
   * The webhook does not belong to the number whose credentials verified it: its numbers disagree,
   * its call context was made for another number, call or stage, or it was replayed. The gateway
   * answers 403 and nothing is processed.
   */
  FORBIDDEN: 'CALL.FORBIDDEN',
  /** The number has no provider credentials to verify webhooks or place calls with. */
  NO_PROVIDER_CREDENTIALS: 'CALL.NO_PROVIDER_CREDENTIALS',
  /** The provider refused to place a call (a 4xx answer to Maskline's request). */
  PROVIDER_REFUSED: 'CALL.PROVIDER_REFUSED',
  /** The provider did not answer a call request in time (it may have placed the call). */
  PROVIDER_TIMEOUT: 'CALL.PROVIDER_TIMEOUT',
  /**
   * An earlier try of a call to a session's first party claimed it and never said how it went (its
   * replica stopped mid-request, or the claim could not be given back): it may have been placed, and
   * is not placed again.
   */
  OUTCOME_UNKNOWN: 'CALL.OUTCOME_UNKNOWN',
} as const;
