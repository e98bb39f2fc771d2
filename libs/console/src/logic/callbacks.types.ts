import type { ListMeta } from './console-session.types';

export type CallbackOutcome = 'delivered' | 'retry' | 'failed' | 'circuit-open';

/** One HTTP delivery attempt of a callback event to the customer's URL. */
export interface CallbackAttempt {
  event_id: string;
  event_name: string;
  url: string;
  method: string;
  attempt: number;
  /** ISO 8601. */
  time: string;
  outcome: CallbackOutcome | string;
  status_code: number | null;
  latency_ms: number | null;
  error: string | null;
}

/** An event whose last retry failed; it can be replayed once. */
export interface DeadLetter {
  event_id: string;
  event_name: string;
  session_uuid: string | null;
  url: string;
  reason: string;
  attempts: number;
  time: string;
  replayed_time: string | null;
}

export interface SessionCallbacksResponse {
  api_id: string;
  attempts: CallbackAttempt[];
  dead_letters: DeadLetter[];
}

export interface CallbackStatsBucket {
  time: string;
  delivered: number;
  failed: number;
  retried: number;
  p50_latency_ms: number | null;
  p95_latency_ms: number | null;
}

export interface FailingEndpoint {
  url: string;
  failures: number;
  last_status_code: number | null;
  last_error: string | null;
  last_time: string | null;
}

export interface CallbackStatsResponse {
  api_id: string;
  interval_seconds: number;
  buckets: CallbackStatsBucket[];
  /** 0..1, null when there was no attempt. */
  success_rate: number | null;
  failing_endpoints: FailingEndpoint[];
}

export interface DeadLetterListResponse {
  api_id: string;
  meta: ListMeta;
  objects: DeadLetter[];
}

export interface ReplayResponse {
  api_id: string;
  message: string;
  replayed: boolean;
}
