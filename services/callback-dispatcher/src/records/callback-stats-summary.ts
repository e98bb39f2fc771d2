import { HOUR_MS, hourlyWindowStart, type GetCallbackStats, type RpcReplyInputOf } from '@maskline/contracts';
/** The most failing endpoints the view lists. */
export const FAILING_ENDPOINTS_TOP = 10;

export interface AttemptFacts {
  at: Date;
  url: string;
  outcome: 'delivered' | 'retry' | 'failed' | 'circuit-open';
  statusCode: number | null;
  latencyMs: number | null;
  error: string | null;
}

/** The value at quantile q of sorted numbers (nearest rank), or null. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * Attempts since `now − hours`, per hour. An attempt that is not delivered counts against its
 * endpoint (a retry, a final failure or an open breaker); only final outcomes count in the success
 * rate. Latency is that of answered attempts.
 */
export function summarizeCallbackStats(
  attempts: readonly AttemptFacts[],
  now: number,
  hours: number,
  capped = false,
): RpcReplyInputOf<typeof GetCallbackStats> {
  const firstHour = hourlyWindowStart(now, hours);
  const hoursOf = Array.from({ length: hours }, () => ({
    delivered: 0,
    failed: 0,
    retried: 0,
    latencies: [] as number[],
  }));
  const failing = new Map<
    string,
    { failures: number; lastStatusCode: number | null; lastError: string | null; lastAt: number }
  >();
  for (const a of attempts) {
    const t = a.at.getTime();
    const index = Math.floor((t - firstHour) / HOUR_MS);
    if (index < 0 || index >= hours) continue;
    const h = hoursOf[index];
    if (a.outcome === 'delivered') h.delivered++;
    else if (a.outcome === 'failed') h.failed++;
    else h.retried++;
    if (a.latencyMs !== null && a.statusCode !== null) h.latencies.push(a.latencyMs);
    if (a.outcome === 'delivered') continue;
    const f = failing.get(a.url) ?? { failures: 0, lastStatusCode: null, lastError: null, lastAt: 0 };
    f.failures++;
    if (t >= f.lastAt) Object.assign(f, { lastStatusCode: a.statusCode, lastError: a.error, lastAt: t });
    failing.set(a.url, f);
  }
  const delivered = hoursOf.reduce((n, h) => n + h.delivered, 0);
  const failed = hoursOf.reduce((n, h) => n + h.failed, 0);
  return {
    capped,
    buckets: hoursOf.map((h, i) => {
      const sorted = [...h.latencies].sort((a, b) => a - b);
      return {
        at: new Date(firstHour + i * HOUR_MS).toISOString(),
        delivered: h.delivered,
        failed: h.failed,
        retried: h.retried,
        p50LatencyMs: quantile(sorted, 0.5),
        p95LatencyMs: quantile(sorted, 0.95),
      };
    }),
    successRate: delivered + failed === 0 ? null : delivered / (delivered + failed),
    failingEndpoints: [...failing]
      .sort(([, a], [, b]) => b.failures - a.failures || b.lastAt - a.lastAt)
      .slice(0, FAILING_ENDPOINTS_TOP)
      .map(([url, f]) => ({
        url,
        failures: f.failures,
        lastStatusCode: f.lastStatusCode,
        lastError: f.lastError,
        lastAt: new Date(f.lastAt).toISOString(),
      })),
  };
}
