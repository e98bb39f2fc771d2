export type LockReason = 'caller' | 'number';

export interface Lock {
  reason: LockReason;
  retryAfterSeconds: number;
}

/** The bar one kind of key is held to. */
export interface ThrottleRule {
  /** Wrong PINs inside the window that start a lockout. */
  maxFailures: number;
  windowSeconds: number;
  /** The first lockout of a day; each further one that day doubles, up to `maxLockoutSeconds`. */
  lockoutSeconds: number;
  maxLockoutSeconds: number;
}

/**
 * What the throttle knows of one key (a caller number, or a virtual number for unknown callers):
 * its recent wrong PINs and its lockouts of the last day, as epoch milliseconds. One value per key,
 * replaced whole by compare-and-set, so that every replica's failures land in the same count.
 */
export interface ThrottleState {
  /** Failures that count: inside the window and after the last lockout ended; at most `maxFailures`. */
  failures: Failure[];
  /** Lockouts that began in the last day (the level of the next one), and any still running. */
  lockouts: Array<{ from: number; until: number }>;
}

/** One wrong PIN: when, and an id of its own (a replica that sees it come back does not count it twice). */
export interface Failure {
  at: number;
  id: string;
}

export const DAY_MS = 24 * 3600 * 1000;

export const EMPTY_STATE: ThrottleState = { failures: [], lockouts: [] };

/** When the key's lockout ends, if it is locked at `now`. */
export function lockedUntil(state: ThrottleState, now: number): number | undefined {
  let until: number | undefined;
  for (const l of state.lockouts)
    if (l.until > now && (until === undefined || l.until > until)) until = l.until;
  return until;
}

export function secondsUntil(until: number, now: number): number {
  return Math.max(1, Math.ceil((until - now) / 1000));
}

/**
 * The state after one more wrong PIN, and the lockout it started if any. A failure while the key
 * is locked out changes nothing (the budget starts afresh when the lockout ends), nor does one the
 * state holds already.
 */
export function withFailure(
  state: ThrottleState,
  failure: Failure,
  rule: ThrottleRule,
): { state: ThrottleState; started?: { level: number; from: number; until: number } } {
  const { at } = failure;
  if (state.failures.some((f) => f.id === failure.id)) return { state };
  const lockouts = state.lockouts.filter((l) => l.from >= at - DAY_MS || l.until > at);
  if (lockedUntil(state, at) !== undefined) return { state: { ...state, lockouts } };
  const lastEnd = Math.max(0, ...lockouts.map((l) => l.until));
  const since = Math.max(at - rule.windowSeconds * 1000, lastEnd);
  if (at < since) return { state: { ...state, lockouts } };
  // Replicas' failures reach the shared entry in the order their writes win, not in time order:
  // one that happened earlier than some already counted is counted all the same.
  const failures = [...state.failures.filter((f) => f.at >= since), failure]
    .sort((a, b) => a.at - b.at)
    .slice(-rule.maxFailures);
  if (failures.length < rule.maxFailures) return { state: { failures, lockouts } };
  const level = lockouts.filter((l) => l.from >= at - DAY_MS).length + 1;
  const seconds = Math.min(rule.lockoutSeconds * 2 ** (level - 1), rule.maxLockoutSeconds);
  const started = { level, from: at, until: at + seconds * 1000 };
  return { state: { failures: [], lockouts: [...lockouts, { from: at, until: started.until }] }, started };
}

/** The state with every failure in `failures` added, in order (a replica's not yet shared ones). */
export function withFailures(state: ThrottleState, failures: readonly Failure[], rule: ThrottleRule) {
  let out = state;
  for (const f of failures) out = withFailure(out, f, rule).state;
  return out;
}

/** Nothing in it matters any more at `now`: no lockout running or of the last day, no failure in the window. */
export function isIdle(state: ThrottleState, now: number, rule: ThrottleRule): boolean {
  return (
    state.lockouts.every((l) => l.until <= now && l.from < now - DAY_MS) &&
    state.failures.every((f) => f.at < now - rule.windowSeconds * 1000)
  );
}
