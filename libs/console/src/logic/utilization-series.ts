import { parseApiTime } from './api-time';
import { alignToGrid, HOUR_MS, MINUTE_MS, timeGrid } from './time-grid';
import type { ExhaustionEvent, UtilizationPoint } from './utilization.types';

/** Pool history as chart series: one slot per minute over the window, null where no sample was taken. */
export interface UtilizationSeries {
  x: number[];
  numbersInUse: (number | null)[];
  numbersTotal: (number | null)[];
  /** Highest numbers in use in the window; null without samples. */
  peakInUse: number | null;
  /** Minutes in which allocations were refused for lack of numbers, oldest first. */
  exhaustions: { time: number; count: number }[];
  /** The chart's text alternative: one row per clock hour touched by the window. */
  hourly: UtilizationHour[];
}

export interface UtilizationHour {
  /** Start of the hour, epoch ms. */
  hour: number;
  samples: number;
  peakInUse: number | null;
  numbersTotal: number | null;
  exhaustions: number;
}

/**
 * `exhaustionEvents`, when given, is the authoritative list of refused allocations (the history's top-level
 * `exhaustions`); otherwise each point's `exhaustions` count is used. Never both, so nothing counts twice.
 */
export function buildUtilizationSeries(
  points: readonly UtilizationPoint[],
  nowMs: number,
  hours = 24,
  exhaustionEvents?: readonly ExhaustionEvent[] | null,
): UtilizationSeries {
  const grid = timeGrid(nowMs, MINUTE_MS, hours * 60);
  const slots = alignToGrid(grid, points);
  const refusedBySlot: number[] = new Array(grid.x.length).fill(0);
  if (exhaustionEvents) {
    const first = grid.x[0] * 1000;
    for (const event of exhaustionEvents) {
      const ms = parseApiTime(event.time);
      const index = ms === null ? -1 : Math.floor((ms - first) / MINUTE_MS);
      if (index >= 0 && index < refusedBySlot.length && event.count > 0) refusedBySlot[index] += event.count;
    }
  } else {
    slots.forEach((point, index) => {
      refusedBySlot[index] = point?.exhaustions && point.exhaustions > 0 ? point.exhaustions : 0;
    });
  }
  const numbersInUse = slots.map((p) => (p ? p.numbers_in_use : null));
  const numbersTotal = slots.map((p) => (p ? p.numbers_total : null));

  const inUseValues = numbersInUse.filter((v): v is number => v !== null);
  const peakInUse = inUseValues.length > 0 ? Math.max(...inUseValues) : null;

  const exhaustions: { time: number; count: number }[] = [];
  const hourly = new Map<number, UtilizationHour>();
  slots.forEach((point, index) => {
    const minute = grid.x[index] * 1000;
    const hour = Math.floor(minute / HOUR_MS) * HOUR_MS;
    let row = hourly.get(hour);
    if (!row) {
      row = { hour, samples: 0, peakInUse: null, numbersTotal: null, exhaustions: 0 };
      hourly.set(hour, row);
    }
    const refused = refusedBySlot[index];
    if (refused > 0) {
      row.exhaustions += refused;
      exhaustions.push({ time: minute, count: refused });
    }
    if (!point) return;
    row.samples += 1;
    row.peakInUse = Math.max(row.peakInUse ?? 0, point.numbers_in_use);
    row.numbersTotal = point.numbers_total; // the last sample of the hour
  });

  return { x: grid.x, numbersInUse, numbersTotal, peakInUse, exhaustions, hourly: [...hourly.values()] };
}
