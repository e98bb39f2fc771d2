import type {
  GetCallbackStats,
  GetPinSecurity,
  GetUtilizationHistory,
  PinAttempt,
  RpcReplyOf,
} from '@maskline/contracts';
import { toPlivoNumber } from '@maskline/plivo-wire';

/** A PIN entry as the API shows it: never the digits, the caller masked. */
export const pinAttemptView = (a: PinAttempt) => ({
  time: a.at,
  call_uuid: a.callId,
  virtual_number: toPlivoNumber(a.virtualNumber),
  caller: a.callerMasked,
  outcome: a.outcome.replace(/-/g, '_'),
  lock_reason: a.lockReason,
  attempt: a.attempt,
  session_uuid: a.sessionId,
});

export function pinSecurityView(r: RpcReplyOf<typeof GetPinSecurity>) {
  return {
    interval_seconds: 3600,
    capped: r.capped,
    buckets: r.buckets.map((b) => ({
      time: b.at,
      successes: b.successes,
      failures: b.failures,
      lockouts: b.lockouts,
    })),
    by_number: r.byNumber.map((n) => ({
      virtual_number: toPlivoNumber(n.virtualNumber),
      failures: n.failures,
      lockouts: n.lockouts,
    })),
    by_caller: r.byCaller.map((c) => ({
      caller: c.callerMasked,
      caller_key: c.callerKey,
      failures: c.failures,
      lockouts: c.lockouts,
    })),
  };
}

export function callbackStatsView(r: RpcReplyOf<typeof GetCallbackStats>) {
  return {
    interval_seconds: 3600,
    capped: r.capped,
    success_rate: r.successRate,
    buckets: r.buckets.map((b) => ({
      time: b.at,
      delivered: b.delivered,
      failed: b.failed,
      retried: b.retried,
      p50_latency_ms: b.p50LatencyMs,
      p95_latency_ms: b.p95LatencyMs,
    })),
    failing_endpoints: r.failingEndpoints.map((f) => ({
      url: f.url,
      failures: f.failures,
      last_status_code: f.lastStatusCode,
      last_error: f.lastError,
      last_time: f.lastAt,
    })),
  };
}

export const utilizationPointView = (p: RpcReplyOf<typeof GetUtilizationHistory>['points'][number]) => ({
  time: p.at,
  numbers_total: p.numbersTotal,
  numbers_in_use: p.numbersInUse,
  live_sessions: p.liveSessions,
  delta: p.delta,
});
