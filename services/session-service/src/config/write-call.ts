/**
 * Requests that write to another service's store (reserve or release a number or PINs): they get
 * more than a query's default timeout, since a store under load answers writes slower than reads,
 * and a write given up on too early is retried, which loads it more.
 */
export const WRITE_CALL = { timeoutMs: 5000 };

/**
 * How long a session write the gateway asked for (a creation, an update) may take here: within the
 * gateway's 10 s wait, with room for the answer's way back. Its announcement waits in what is left.
 */
export const WRITE_REQUEST_BUDGET_MS = 8000;
