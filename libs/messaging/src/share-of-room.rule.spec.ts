import { shareOfRoomRule } from './share-of-room.rule';
import { idleTtlMs } from './shared-token-buckets';

describe('an account’s share of a room every tenant shares', () => {
  const HOUR = 3600_000;

  it.each([
    [751_619, 25, 2 * HOUR],
    [226_050, 25, 37 * HOUR],
    [226_050, 1, 37 * HOUR],
    [3_355, 100, 37 * HOUR],
  ])(
    'room for %d, %d %% an account, entries held %d ms: its burst and a window at its rate fit its share',
    (room, percent, windowMs) => {
      const rule = shareOfRoomRule(room, percent, windowMs);
      expect(rule.burst + (rule.ratePerSecond * windowMs) / 1000).toBeLessThanOrEqual((room * percent) / 100);
      // A quarter of it at once.
      expect(rule.burst).toBe(Math.max(1, Math.floor((room * percent) / 400)));
    },
  );

  it('is remembered while idle until its bucket would be full again: forgotten sooner, a slow share would hand out a fresh burst', () => {
    const slow = shareOfRoomRule(226_050, 25, 37 * HOUR);
    // Its burst takes hours to come back: its entry outlives them.
    expect(slow.burst / slow.ratePerSecond).toBeGreaterThan(HOUR / 1000);
    expect(idleTtlMs(slow)).toBeGreaterThanOrEqual((slow.burst / slow.ratePerSecond) * 1000);
    // A per-second limit is full again within the hour an idle entry is kept at least.
    expect(idleTtlMs({ ratePerSecond: 100, burst: 200 })).toBe(HOUR);
  });
});
