/**
 * A token bucket's arithmetic, with the time passed in: `rate` tokens a second up to `burst`.
 * Kept apart from where the state lives (a process's memory, a shared KV entry) so both use the
 * same rule.
 */
export interface TokenBucketState {
  /** Tokens left at `at` (may be fractional). */
  tokens: number;
  /** Epoch ms of the last change. */
  at: number;
}

export interface TokenBucketRule {
  ratePerSecond: number;
  burst: number;
}

/** The bucket as it stands at `now` (a clock that went backwards adds nothing). */
export function refill(state: TokenBucketState | null, rule: TokenBucketRule, now: number): TokenBucketState {
  if (!state) return { tokens: rule.burst, at: now };
  const elapsed = Math.max(0, now - state.at);
  return {
    tokens: Math.min(rule.burst, state.tokens + (elapsed / 1000) * rule.ratePerSecond),
    at: Math.max(now, state.at),
  };
}

/**
 * Takes up to `want` whole tokens from the bucket at `now`: how many were granted, the bucket
 * after, and (when none were) the seconds until one token is there.
 */
export function withdraw(
  state: TokenBucketState | null,
  rule: TokenBucketRule,
  now: number,
  want: number,
): { granted: number; state: TokenBucketState; retryAfterSeconds: number } {
  const current = refill(state, rule, now);
  const granted = Math.max(0, Math.min(want, Math.floor(current.tokens)));
  const after = { tokens: current.tokens - granted, at: current.at };
  const retryAfterSeconds = granted > 0 ? 0 : Math.max(1, Math.ceil((1 - after.tokens) / rule.ratePerSecond));
  return { granted, state: after, retryAfterSeconds };
}
