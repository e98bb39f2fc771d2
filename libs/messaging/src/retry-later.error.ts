/**
 * Thrown by a durable-event handler to have the message redelivered after `delayMs`
 * (the consumer naks it with that delay). Any other non-coded error is retried with backoff too;
 * this one says when, and why.
 */
export class RetryLater extends Error {
  constructor(
    readonly reason: string,
    readonly delayMs: number,
  ) {
    super(reason);
    this.name = 'RetryLater';
  }
}

/** Exponential backoff with full jitter: attempt 1 → up to base, attempt n → up to base·2^(n-1), capped. */
export function backoffWithJitter(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const ceiling = backoffCeiling(attempt, baseMs, maxMs);
  return Math.max(1, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}

/** The backoff before attempt `attempt` (1 on the first) without jitter: `baseMs` doubling to `maxMs`. */
export function backoffCeiling(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
