import type { DeadLetter, DeliveryAttempt } from '@maskline/contracts';

/** A callback attempt, as the API shows it. */
export const attemptView = (a: DeliveryAttempt) => ({
  event_id: a.eventId,
  event_name: a.eventName,
  url: a.url,
  method: a.method,
  attempt: a.attempt,
  time: a.at,
  outcome: a.outcome,
  status_code: a.statusCode,
  latency_ms: a.latencyMs,
  error: a.error,
});
/** A dead letter, as the API shows it. */
export const deadLetterView = (d: DeadLetter) => ({
  event_id: d.eventId,
  event_name: d.eventName,
  session_uuid: d.sessionId,
  url: d.url,
  reason: d.reason,
  attempts: d.attempts,
  time: d.at,
  replayed_time: d.replayedAt,
});
