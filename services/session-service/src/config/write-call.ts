/**
 * Requests that write to another service's store (reserve or release a number or PINs): they get
 * more than a query's default timeout, since a store under load answers writes slower than reads,
 * and a write given up on too early is retried, which loads it more.
 */
export const WRITE_CALL = { timeoutMs: 5000 };
