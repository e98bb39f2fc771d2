/** Breaker timeout for NATS calls: above any per-call timeout, so only the call's own timeout applies. */
export const BREAKER_CALL_CEILING_MS = 120_000;
