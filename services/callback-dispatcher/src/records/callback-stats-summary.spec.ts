import { quantile, summarizeCallbackStats, type AttemptFacts } from './callback-stats-summary';

const now = Date.parse('2026-11-29T12:30:00Z');
const attempt = (
  at: string,
  outcome: AttemptFacts['outcome'],
  url = 'http://127.0.0.1:9/cb',
  latencyMs: number | null = 10,
  statusCode: number | null = 200,
  error: string | null = null,
): AttemptFacts => ({
  at: new Date(at),
  url,
  outcome,
  statusCode,
  latencyMs,
  error,
});

describe('summarizeCallbackStats', () => {
  it('takes the nearest-rank quantile', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.95)).toBe(4);
    expect(quantile([7], 0.95)).toBe(7);
  });

  it('counts outcomes per hour and the success rate over final outcomes only', () => {
    const s = summarizeCallbackStats(
      [
        attempt('2026-11-29T12:01:00Z', 'delivered'),
        attempt('2026-11-29T12:02:00Z', 'delivered', undefined, 30),
        attempt('2026-11-29T12:03:00Z', 'retry', 'http://127.0.0.1:9/bad', 5, 503),
        attempt('2026-11-29T11:03:00Z', 'failed', 'http://127.0.0.1:9/bad', null, null, 'timeout'),
      ],
      now,
      24,
    );
    expect(s.buckets).toHaveLength(24);
    expect(s.buckets[23]).toMatchObject({
      delivered: 2,
      retried: 1,
      failed: 0,
      p50LatencyMs: 10,
      p95LatencyMs: 30,
    });
    expect(s.buckets[22]).toMatchObject({ failed: 1, p50LatencyMs: null });
    expect(s.successRate).toBeCloseTo(2 / 3);
  });

  it('names the failing endpoints, most failures first, with their latest error', () => {
    const s = summarizeCallbackStats(
      [
        attempt('2026-11-29T12:01:00Z', 'retry', 'http://127.0.0.1:9/a', 5, 500),
        attempt('2026-11-29T12:05:00Z', 'failed', 'http://127.0.0.1:9/a', null, null, 'timeout'),
        attempt('2026-11-29T12:02:00Z', 'circuit-open', 'http://127.0.0.1:9/b', null, null, 'open'),
        attempt('2026-11-29T12:02:00Z', 'delivered', 'http://127.0.0.1:9/c'),
      ],
      now,
      1,
    );
    expect(s.failingEndpoints.map((f) => [f.url, f.failures])).toEqual([
      ['http://127.0.0.1:9/a', 2],
      ['http://127.0.0.1:9/b', 1],
    ]);
    expect(s.failingEndpoints[0]).toMatchObject({
      lastStatusCode: null,
      lastError: 'timeout',
      lastAt: '2026-11-29T12:05:00.000Z',
    });
  });

  it('has no success rate when nothing reached an end', () => {
    expect(summarizeCallbackStats([attempt('2026-11-29T12:01:00Z', 'retry')], now, 1).successRate).toBeNull();
  });
});
