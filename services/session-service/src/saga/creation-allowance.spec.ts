import { DEFAULT_NATS_MEMORY_BYTES, DEFAULT_NATS_STORAGE_BYTES, natsEntryBound } from '@maskline/contracts';
import { creationAllowanceRule } from './creation-allowance';

describe('an account’s share of the room for creation verdicts', () => {
  const defaultRoom = natsEntryBound(
    'creationReservations',
    DEFAULT_NATS_STORAGE_BYTES,
    DEFAULT_NATS_MEMORY_BYTES,
  );

  it.each([
    [2_516, 25],
    [defaultRoom, 1],
    [defaultRoom, 25],
    [defaultRoom, 100],
    [50_000_000, 25],
  ])(
    'room for %d creations, %d %% an account: its burst and two hours at its rate fit its share',
    (room, percent) => {
      const { ratePerSecond, burst } = creationAllowanceRule(room, percent);
      // A reservation lives two hours: what an account can hold at once is its burst and two hours' rate.
      expect(burst + ratePerSecond * 7200).toBeLessThanOrEqual((room * percent) / 100);
      // A quarter of it at once: a campaign's start, or a test suite's, is not refused.
      expect(burst).toBe(Math.floor((room * percent) / 400));
    },
  );

  it('at the defaults, one account creates 19 sessions a second, with bursts of 46,000; four such fill the room', () => {
    const { ratePerSecond, burst } = creationAllowanceRule(defaultRoom, 25);
    expect(ratePerSecond).toBeGreaterThan(19);
    expect(burst).toBeGreaterThan(46_000);
  });
});
