import type { SendResult } from '@maskline/net-guard';
import { judge, retryDelayMs } from './retry-policy';

/** The rules a delivery follows; from config. */
export interface DeliveryRules {
  /** Seconds before each retry; its length + 1 is the number of attempts. */
  retryScheduleSeconds: readonly number[];
  /** A callback older than this is not attempted again. */
  maxAgeSeconds: number;
}

/** Whether to make (another) attempt. */
export type BeforeAttempt = { kind: 'attempt' } | { kind: 'dead-letter'; reason: string };

/** What an attempt's result means for the event. */
export type AfterAttempt =
  | { kind: 'delivered'; attempt: number; statusCode: number | null }
  | { kind: 'retry'; attempt: number; delayMs: number; reason: string; statusCode: number | null }
  | { kind: 'dead-letter'; attempt: number; reason: string; statusCode: number | null };

export const maxAttempts = (rules: DeliveryRules) => rules.retryScheduleSeconds.length + 1;

/**
 * Before an attempt: a callback that has used up its attempts, or is older than the maximum age,
 * goes to the dead letters; otherwise it is attempted.
 */
export function beforeAttempt(
  rules: DeliveryRules,
  made: number,
  publishedAtMs: number,
  nowMs: number,
): BeforeAttempt {
  if (made >= maxAttempts(rules)) return { kind: 'dead-letter', reason: `gave up after ${made} attempts` };
  if (nowMs - publishedAtMs > rules.maxAgeSeconds * 1000) {
    return { kind: 'dead-letter', reason: `older than ${rules.maxAgeSeconds} s` };
  }
  return { kind: 'attempt' };
}

/**
 * After attempt number `made + 1`: a 2xx is delivered; a network error, timeout, 5xx, 408 or 429
 * is retried on the schedule (honouring Retry-After, within the schedule's longest delay) until
 * the attempts are used up; any other answer is final. Final failures go to the dead letters.
 */
export function afterAttempt(
  rules: DeliveryRules,
  made: number,
  result: SendResult,
  random: () => number = Math.random,
): AfterAttempt {
  const attempt = made + 1;
  const verdict = judge(result);
  const statusCode = result.kind === 'response' ? result.statusCode : null;
  if (verdict.kind === 'delivered') return { kind: 'delivered', attempt, statusCode };
  const reason = result.kind === 'response' ? verdict.reason : result.error;
  if (verdict.kind === 'terminal' || attempt >= maxAttempts(rules)) {
    return { kind: 'dead-letter', attempt, reason, statusCode };
  }
  const retryAfter = result.kind === 'response' ? result.retryAfterSeconds : undefined;
  return {
    kind: 'retry',
    attempt,
    delayMs: retryDelayMs(attempt, rules.retryScheduleSeconds, retryAfter, random),
    reason,
    statusCode,
  };
}

/** Why a callback whose next attempt the event stream would not hold is dead-lettered now. */
export const FORGOTTEN_BEFORE_RETRY =
  'its next attempt would come after NATS has forgotten the event (NATS storage full of newer events); replay it';

/**
 * Why a callback put off at its event's last delivery is dead-lettered then (the consumer gives up
 * an event after CALLBACK_MAX_DELIVERIES: its account or endpoint busy for hours, seconds at a time).
 */
export const PUT_OFF_TOO_OFTEN =
  'put off at every delivery NATS makes of its event (busy for hours); replay it';

/** Why a callback whose retry never came, its event forgotten by the stream first, is dead-lettered. */
export const LOST_BEFORE_RETRY =
  'NATS forgot the event before its scheduled retry came (NATS storage filled with newer events after the retry was scheduled); replay it';

/**
 * A retry the event stream would no longer hold when it came (full, the stream forgets its oldest
 * events first, and a forgotten retry never comes): dead-lettered now, to wait for a replay, instead
 * of vanishing without a trace.
 */
export function unlessForgotten(next: AfterAttempt, kept: (delayMs: number) => boolean): AfterAttempt {
  if (next.kind !== 'retry' || kept(next.delayMs)) return next;
  return {
    kind: 'dead-letter',
    attempt: next.attempt,
    reason: `${next.reason}; ${FORGOTTEN_BEFORE_RETRY}`,
    statusCode: next.statusCode,
  };
}
