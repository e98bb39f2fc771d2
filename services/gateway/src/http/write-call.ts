/**
 * Creating, updating and ending sessions (and Proxy Services' Sessions) are writes across services
 * (number-pool, pin-auth, the store, the event stream): the answer waits for all of it, as a client
 * would rather have a slow success than a 503 for a change that was made.
 */
export const WRITE_CALL = { timeoutMs: 10_000 };
