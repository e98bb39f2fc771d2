/** Error codes of the session service. */
export const SessionErrorCodes = {
  /** `Idempotency-Key` reused with a different request body. */
  IDEMPOTENCY_MISMATCH: 'SESSION.IDEMPOTENCY_MISMATCH',
  /** A request with this `Idempotency-Key` is still being processed. */
  IDEMPOTENCY_IN_PROGRESS: 'SESSION.IDEMPOTENCY_IN_PROGRESS',
  /** The session has ended: it can no longer be changed. */
  ALREADY_EXPIRED: 'SESSION.ALREADY_EXPIRED',
  /**
   * An owner's request to end the session (DELETE, a Proxy close) found another replica ending it,
   * not finished within the request's wait: it will end; asked again, the request answers once it has.
   */
  END_IN_PROGRESS: 'SESSION.END_IN_PROGRESS',
  /** The account holds as many live sessions as it may (`LIVE_SESSIONS_MAX`): one must end first. */
  LIVE_SESSIONS_LIMIT: 'SESSION.LIVE_SESSIONS_LIMIT',
} as const;
