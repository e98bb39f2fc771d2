import {
  buildCallbackSeries,
  buildPinSecuritySeries,
  formatSuccessRate,
  successRateTone,
} from './hourly-series';

const NOW = Date.UTC(2026, 10, 29, 16, 30);

describe('buildCallbackSeries', () => {
  it('plots delivered, failed and p95 latency per hour; silent hours are zero with no latency', () => {
    const series = buildCallbackSeries(
      [
        {
          time: '2026-11-29T14:00:00Z',
          delivered: 40,
          failed: 2,
          retried: 3,
          p50_latency_ms: 80,
          p95_latency_ms: 310,
        },
        {
          time: '2026-11-29T16:00:00Z',
          delivered: 5,
          failed: 0,
          retried: 0,
          p50_latency_ms: 70,
          p95_latency_ms: null,
        },
      ],
      NOW,
    );
    expect(series.x).toHaveLength(24);
    expect(series.x[23]).toBe(Date.UTC(2026, 10, 29, 16) / 1000);
    expect(series.delivered.slice(-3)).toEqual([40, 0, 5]);
    expect(series.failed.slice(-3)).toEqual([2, 0, 0]);
    expect(series.p95LatencyMs.slice(-3)).toEqual([310, null, null]);
    expect(series.totals).toEqual({ delivered: 45, failed: 2, retried: 3 });
  });
});

describe('buildPinSecuritySeries', () => {
  it('plots failures and lockouts per hour and totals the window', () => {
    const series = buildPinSecuritySeries(
      [
        { time: '2026-11-29T15:00:00Z', successes: 9, failures: 4, lockouts: 1 },
        { time: '2026-11-27T15:00:00Z', successes: 100, failures: 100, lockouts: 100 },
      ],
      NOW,
    );
    expect(series.failures.slice(-2)).toEqual([4, 0]);
    expect(series.lockouts.slice(-2)).toEqual([1, 0]);
    expect(series.totals).toEqual({ successes: 9, failures: 4, lockouts: 1 });
  });
});

describe('formatSuccessRate', () => {
  it('shows one decimal and never rounds a failure up to 100%', () => {
    expect(formatSuccessRate(1)).toBe('100.0%');
    expect(formatSuccessRate(0.9996)).toBe('99.9%');
    expect(formatSuccessRate(0.985)).toBe('98.5%');
    expect(formatSuccessRate(0)).toBe('0.0%');
  });

  it('shows a dash when there were no attempts', () => {
    expect(formatSuccessRate(null)).toBe('—');
  });
});

describe('successRateTone', () => {
  it('grades the rate', () => {
    expect(successRateTone(0.995)).toBe('good');
    expect(successRateTone(0.96)).toBe('warn');
    expect(successRateTone(0.5)).toBe('bad');
    expect(successRateTone(null)).toBe('neutral');
  });
});
