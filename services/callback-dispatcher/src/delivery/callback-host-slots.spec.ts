import { hostWaitersMax } from './callback-host-slots';

describe('attempts waiting for a turn at one host', () => {
  it.each([
    // The defaults: 8 running and 4 waiting hold 12 of the account's 16 turns, 4 left to its other hosts.
    [16, 8, 4],
    [8, 2, 4],
    [8, 8, 0],
    [4, 8, 0],
    [100, 8, 67],
  ])('with %i turns an account and %i a host: %i', (accountTurns, hostTurns, waiters) => {
    expect(hostWaitersMax(accountTurns, hostTurns)).toBe(waiters);
    // Running and waiting at one host leave a quarter of the account's turns, or the host takes none waiting.
    if (waiters > 0) expect(hostTurns + waiters).toBeLessThanOrEqual(accountTurns - accountTurns / 4);
  });
});
