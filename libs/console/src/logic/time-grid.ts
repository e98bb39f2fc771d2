import { parseApiTime } from './api-time';

/**
 * Charts plot a fixed window ending now, one slot per interval, so a missing sample shows as a gap (or zero)
 * instead of silently joining its neighbours. x values are Unix seconds, as uPlot expects.
 */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

export interface TimeGrid {
  /** Slot starts in Unix seconds, oldest first. */
  x: number[];
  stepMs: number;
}

/** `count` slots of `stepMs`, the last one containing `nowMs`. */
export function timeGrid(nowMs: number, stepMs: number, count: number): TimeGrid {
  const last = Math.floor(nowMs / stepMs) * stepMs;
  const x: number[] = [];
  for (let i = count - 1; i >= 0; i -= 1) x.push((last - i * stepMs) / 1000);
  return { x, stepMs };
}

/** Places each sample in the slot its time falls in; samples outside the window are dropped, later ones win. */
export function alignToGrid<T extends { time: string }>(
  grid: TimeGrid,
  samples: readonly T[],
): (T | undefined)[] {
  const first = grid.x[0] * 1000;
  const slots: (T | undefined)[] = new Array(grid.x.length).fill(undefined);
  for (const sample of samples) {
    const ms = parseApiTime(sample.time);
    if (ms === null) continue;
    const index = Math.floor((ms - first) / grid.stepMs);
    if (index >= 0 && index < slots.length) slots[index] = sample;
  }
  return slots;
}
