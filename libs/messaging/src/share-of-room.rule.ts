import type { TokenBucketRule } from '@maskline/resilience';

/** Of an account's share, what it may take at once; the rest comes at a steady rate. */
const BURST_FRACTION = 0.25;

/**
 * One account's allowance of a room every tenant shares (`room` entries, each held at most
 * `windowMs`): `percent` of it, a quarter at once and the rest at a steady rate over the window. A
 * token bucket lets through at most its burst plus its rate times a window in any window, so an
 * account holds at most `percent` of the room at any moment, and one tenant cannot fill it for all.
 */
export function shareOfRoomRule(room: number, percent: number, windowMs: number): TokenBucketRule {
  const share = (room * percent) / 100;
  const burst = Math.max(1, Math.floor(share * BURST_FRACTION));
  return { ratePerSecond: Math.max(share - burst, 1) / (windowMs / 1000), burst };
}
