import type { UtilizationPoint } from './utilization.types';
import { buildUtilizationSeries } from './utilization-series';

const NOW = Date.UTC(2026, 10, 29, 16, 2, 44);

const point = (time: string, inUse: number, overrides: Partial<UtilizationPoint> = {}): UtilizationPoint => ({
  time,
  numbers_total: 50,
  numbers_in_use: inUse,
  live_sessions: inUse * 2,
  delta: 1,
  exhaustions: 0,
  ...overrides,
});

describe('buildUtilizationSeries', () => {
  it('has one slot per minute of the last 24 hours, ending with the current minute', () => {
    const series = buildUtilizationSeries([], NOW);
    expect(series.x).toHaveLength(1440);
    expect(series.x[1439]).toBe(Date.UTC(2026, 10, 29, 16, 2) / 1000);
    expect(series.x[0]).toBe(Date.UTC(2026, 10, 28, 16, 3) / 1000);
    expect(series.numbersInUse.every((v) => v === null)).toBe(true);
    expect(series.peakInUse).toBeNull();
  });

  it('fills missing minutes with null so the chart shows a gap', () => {
    const series = buildUtilizationSeries(
      [point('2026-11-29T16:00:00Z', 10), point('2026-11-29T16:02:00Z', 12, { numbers_total: 60 })],
      NOW,
    );
    expect(series.numbersInUse.slice(-3)).toEqual([10, null, 12]);
    expect(series.numbersTotal.slice(-3)).toEqual([50, null, 60]);
    expect(series.peakInUse).toBe(12);
  });

  it('lists exhaustion minutes and sums them per hour', () => {
    const series = buildUtilizationSeries(
      [
        point('2026-11-29T15:10:00Z', 50, { exhaustions: 3 }),
        point('2026-11-29T15:11:00Z', 50, { exhaustions: 1 }),
        point('2026-11-29T16:01:00Z', 20),
      ],
      NOW,
    );
    expect(series.exhaustions).toEqual([
      { time: Date.UTC(2026, 10, 29, 15, 10), count: 3 },
      { time: Date.UTC(2026, 10, 29, 15, 11), count: 1 },
    ]);
    const lastTwoHours = series.hourly.slice(-2);
    expect(lastTwoHours).toEqual([
      { hour: Date.UTC(2026, 10, 29, 15), samples: 2, peakInUse: 50, numbersTotal: 50, exhaustions: 4 },
      { hour: Date.UTC(2026, 10, 29, 16), samples: 1, peakInUse: 20, numbersTotal: 50, exhaustions: 0 },
    ]);
  });

  it('takes refused allocations from the separate list when the server sends one, without counting twice', () => {
    const series = buildUtilizationSeries(
      [point('2026-11-29T15:10:00Z', 50, { exhaustions: 3 }), point('2026-11-29T16:01:00Z', 20)],
      NOW,
      24,
      [
        { time: '2026-11-29T15:10:00Z', count: 3 },
        { time: '2026-11-29T15:42:30Z', count: 2 },
        { time: '2026-11-27T15:10:00Z', count: 9 },
      ],
    );
    expect(series.exhaustions).toEqual([
      { time: Date.UTC(2026, 10, 29, 15, 10), count: 3 },
      { time: Date.UTC(2026, 10, 29, 15, 42), count: 2 },
    ]);
    expect(series.hourly.at(-2)?.exhaustions).toBe(5);
  });

  it('summarises every clock hour the window touches, including hours without samples', () => {
    const series = buildUtilizationSeries([], NOW);
    // 16:03 yesterday to 16:02 today touches 25 clock hours.
    expect(series.hourly).toHaveLength(25);
    expect(series.hourly[0]).toEqual({
      hour: Date.UTC(2026, 10, 28, 16),
      samples: 0,
      peakInUse: null,
      numbersTotal: null,
      exhaustions: 0,
    });
  });
});
