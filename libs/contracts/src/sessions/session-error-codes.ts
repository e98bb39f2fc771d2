/** Error codes of the session service. */
export const SessionErrorCodes = {
  /** `Idempotency-Key` reused with a different request body. */
  IDEMPOTENCY_MISMATCH: 'SESSION.IDEMPOTENCY_MISMATCH',
  /** A request with this `Idempotency-Key` is still being processed. */
  IDEMPOTENCY_IN_PROGRESS: 'SESSION.IDEMPOTENCY_IN_PROGRESS',
  /** The session has ended: it can no longer be changed. */
  ALREADY_EXPIRED: 'SESSION.ALREADY_EXPIRED',
} as const;
