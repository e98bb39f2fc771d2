import type { SendResult } from '@maskline/net-guard';

export type Verdict =
  | { kind: 'delivered' }
  | { kind: 'retry'; reason: string }
  | { kind: 'terminal'; reason: string };

/** Network errors, timeouts, 5xx, 408 and 429 are worth retrying; any other non-2xx is final. */
export function judge(result: SendResult): Verdict {
  if (result.kind !== 'response') return { kind: 'retry', reason: result.error };
  const s = result.statusCode;
  if (s >= 200 && s < 300) return { kind: 'delivered' };
  if (s >= 500 || s === 408 || s === 429) return { kind: 'retry', reason: `HTTP ${s}` };
  if (s >= 300 && s < 400) return { kind: 'terminal', reason: `HTTP ${s}: redirects are not followed` };
  return { kind: 'terminal', reason: `HTTP ${s}` };
}

/**
 * Delay before retry `attempt` (1-based count of attempts made): the schedule's entry with ±20%
 * jitter, or the receiver's Retry-After when it asks for longer (capped at the schedule's maximum).
 */
export function retryDelayMs(
  attempt: number,
  scheduleSeconds: readonly number[],
  retryAfterSeconds: number | undefined,
  random = Math.random,
): number {
  const base = scheduleSeconds[Math.min(attempt - 1, scheduleSeconds.length - 1)] * 1000;
  const jittered = Math.round(base * (0.8 + 0.4 * random()));
  const asked = retryAfterSeconds !== undefined ? retryAfterSeconds * 1000 : 0;
  return Math.max(1, Math.min(Math.max(jittered, asked), Math.max(...scheduleSeconds) * 1000));
}
