import { alignToGrid, HOUR_MS, MINUTE_MS, timeGrid } from './time-grid';

const NOW = Date.UTC(2026, 10, 29, 16, 2, 44);

describe('timeGrid', () => {
  it('ends with the slot that contains now', () => {
    const grid = timeGrid(NOW, HOUR_MS, 24);
    expect(grid.x).toHaveLength(24);
    expect(grid.x[23]).toBe(Date.UTC(2026, 10, 29, 16) / 1000);
    expect(grid.x[0]).toBe(Date.UTC(2026, 10, 28, 17) / 1000);
  });
});

describe('alignToGrid', () => {
  it('puts samples in their slot, leaves gaps empty and drops samples outside the window', () => {
    const grid = timeGrid(NOW, MINUTE_MS, 3); // 16:00, 16:01, 16:02
    const slots = alignToGrid(grid, [
      { time: '2026-11-29T16:02:00Z', v: 'c' },
      { time: '2026-11-29T16:00:30Z', v: 'a' },
      { time: '2026-11-29T15:59:00Z', v: 'too old' },
      { time: '2026-11-29T16:03:00Z', v: 'future' },
      { time: 'not a time', v: 'bad' },
    ]);
    expect(slots.map((s) => s?.v)).toEqual(['a', undefined, 'c']);
  });
});
