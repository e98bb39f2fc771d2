/**
 * Error codes cross process boundaries as strings; `instanceof` does not.
 * The gateway maps each code to an HTTP status (see services/gateway/src/errors).
 */
export const ErrorCodes = {
  /** A request or message failed validation. `field` names the offending parameter. */
  VALIDATION: 'VALIDATION.INVALID',
  /** Authentication failed (missing or wrong credentials). */
  AUTH_FAILED: 'AUTH.FAILED',
  /** The caller is authenticated but may not do this. */
  FORBIDDEN: 'AUTH.FORBIDDEN',
  /** The resource does not exist, or belongs to another account. */
  NOT_FOUND: 'NOT_FOUND',
  /** The request conflicts with current state (e.g. idempotency key reused with another body). */
  CONFLICT: 'CONFLICT',
  /** Rate limit hit. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The account already has as many reads of its history in flight as it may (HISTORY_READS_PER_ACCOUNT). */
  HISTORY_READS_LIMITED: 'RATE_LIMITED.HISTORY_READS',
  /**
   * The system is answering as many reads of history as it may at once (HISTORY_READS_IN_FLIGHT):
   * retryable, and not a fault of the service (it never opens a caller's circuit breaker).
   */
  HISTORY_READS_BUSY: 'RATE_LIMITED.HISTORY_BUSY',
  /**
   * The account (or its subaccount) has created as many sessions lately as it may: its share of the
   * room for creation verdicts (CREATIONS_ACCOUNT_PERCENT, CREATIONS_SUBACCOUNT_PERCENT). Retryable
   * after `retryAfterSeconds`.
   */
  SESSION_CREATIONS_LIMITED: 'RATE_LIMITED.SESSION_CREATIONS',
  /** The remote service did not answer in time. */
  RPC_TIMEOUT: 'RPC.TIMEOUT',
  /** Nobody is listening on the subject, or the connection is down. */
  RPC_UNAVAILABLE: 'RPC.UNAVAILABLE',
  /** The circuit breaker for the remote service is open. */
  CIRCUIT_OPEN: 'RPC.CIRCUIT_OPEN',
  /** A reply did not match its contract: a bug in the sender. */
  BAD_REPLY: 'RPC.BAD_REPLY',
  /** An unexpected failure. The message never carries internals. */
  INTERNAL: 'INTERNAL',
  /**
   * The service could not reach what it stands on (JetStream, KV) for a moment, part-way through:
   * retryable, and what it did before may stand (a caller compensates as for a timeout).
   */
  DEPENDENCY_UNAVAILABLE: 'INTERNAL.DEPENDENCY_UNAVAILABLE',
  /**
   * The work took so long that the service's orphan reaper judged it dead and gave back what it
   * held (a session's create, a Proxy participant's add): nothing was made, and it may succeed if
   * asked again. Said by the service about itself, unlike RPC.TIMEOUT, which a caller says of a
   * service that did not answer.
   */
  ABANDONED: 'INTERNAL.ABANDONED',
  /**
   * NATS would not carry a request or an event (larger than its max_payload), or JetStream answered
   * that it would not store an event: asking again changes nothing, so it is not retryable. Said by
   * the side that sent it, of what it sent: it counts against no breaker (the service or stream
   * asked is not unwell), and a durable consumer ends the event at once instead of retrying it for
   * the hours it gives a stream that cannot be reached.
   */
  NATS_REFUSED: 'INTERNAL.NATS_REFUSED',
  /** A durable event's payload failed validation: it will never succeed, so it is terminated. */
  EVENT_INVALID: 'EVENT.INVALID_PAYLOAD',
  /** A durable event was redelivered as often as its consumer allows and is given up (logged, terminated). */
  EVENT_GIVEN_UP: 'EVENT.MAX_DELIVER',
  /**
   * A durable event's retry would come after the event stream, full of newer events, has forgotten it
   * (a retry it forgets never comes): given up now instead (logged, terminated), so it is not lost unseen.
   */
  EVENT_FORGOTTEN: 'EVENT.OUTLIVES_STREAM',
  /** The path exists, the method does not (details.allow lists the ones that do). */
  METHOD_NOT_ALLOWED: 'HTTP.METHOD_NOT_ALLOWED',
  /** The request body is larger than the gateway accepts. */
  PAYLOAD_TOO_LARGE: 'HTTP.PAYLOAD_TOO_LARGE',
  /** The body's content encoding or charset is not one the gateway reads. */
  UNSUPPORTED_MEDIA_TYPE: 'HTTP.UNSUPPORTED_MEDIA_TYPE',
} as const;

export type KnownErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * Codes that say the answering side is unwell (not that the request was wrong): they count
 * against a circuit breaker, and the gateway answers them with a 5xx.
 */
export const SERVER_FAULT_CODES: ReadonlySet<string> = new Set<string>([
  ErrorCodes.INTERNAL,
  ErrorCodes.DEPENDENCY_UNAVAILABLE,
  ErrorCodes.ABANDONED,
  ErrorCodes.BAD_REPLY,
  ErrorCodes.RPC_TIMEOUT,
  ErrorCodes.RPC_UNAVAILABLE,
  ErrorCodes.CIRCUIT_OPEN,
]);

/**
 * Server faults that, in a service's answer, tell of what that service stands on (its store, NATS,
 * a service it asked in turn), not of the service itself: it answered. They do not count against
 * the caller's breaker for it. Counted, they opened one breaker per hop, each refusing for its reset
 * time after the dependency was back (chaos, a NATS node killed: the gateways refused creates for
 * 6 s after it returned), and one tenant's requests that a store could not answer in time opened
 * the breaker every tenant's requests go through. A call that the caller itself saw fail (no answer
 * in time, nobody listening) counts, whatever its code. No breaker guards a store: a store failing
 * fast shows in the callers' RPC outcomes (the MasklineDependencyUnavailable alert).
 */
export const DEPENDENCY_FAULT_CODES: ReadonlySet<string> = new Set<string>([
  ErrorCodes.DEPENDENCY_UNAVAILABLE,
  // Slow because what it stands on was slow (the store, a service it asked), and often one
  // tenant's doing: counted, it would open the breaker every tenant goes through.
  ErrorCodes.ABANDONED,
  ErrorCodes.RPC_TIMEOUT,
  ErrorCodes.RPC_UNAVAILABLE,
  ErrorCodes.CIRCUIT_OPEN,
]);
