import { CodedError } from '../errors/coded-error';
import { SessionErrorCodes } from '../sessions/session-error-codes';

/**
 * The request header a client repeats, unchanged, on a retry of a creation it may have made already
 * (a session, a message sent through the API).
 */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/**
 * An `Idempotency-Key` already taken for a request that said something else (another session's
 * parameters, another message): refused (422), never answered as the first request was.
 */
export function idempotencyKeyReused(what: string): CodedError {
  return new CodedError(
    SessionErrorCodes.IDEMPOTENCY_MISMATCH,
    `${IDEMPOTENCY_KEY_HEADER} was already used with a different ${what}`,
    { field: IDEMPOTENCY_KEY_HEADER },
  );
}

/**
 * An `Idempotency-Key` refused for every request, its first's retry included, after `reuses` requests
 * saying something else (each refusal told whether a guess of the first was right).
 */
export function idempotencyKeySpent(what: string, reuses: number): CodedError {
  return new CodedError(
    SessionErrorCodes.IDEMPOTENCY_MISMATCH,
    `${IDEMPOTENCY_KEY_HEADER} was used for other ${what} ${reuses} times: it takes no more requests; use a new key`,
    { field: IDEMPOTENCY_KEY_HEADER },
  );
}

/** The first request with the key is still under way: its outcome decides the retry's. */
export function idempotencyKeyInProgress(): CodedError {
  return new CodedError(
    SessionErrorCodes.IDEMPOTENCY_IN_PROGRESS,
    `a request with this ${IDEMPOTENCY_KEY_HEADER} is still being processed; retry shortly`,
    { retryable: true },
  );
}
