/**
 * The calls and texts providers may start towards one account's numbers a second, by default (the
 * gateway's INBOUND_RATE_LIMIT_PER_SECOND): what other services size an account's share of their own
 * work by (call-router's looks at a held-back backlog, HeldLookPacer).
 */
export const DEFAULT_INBOUND_PER_SECOND = 200;
