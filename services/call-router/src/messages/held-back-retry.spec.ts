import { heldBackRetryMs } from './held-back-retry';

describe('the wait of a message its provider account holds back', () => {
  const config = { BREAKER_RESET_MS: 5000, OUTBOUND_TIMEOUT_MS: 2000 };

  it('is never shorter than the breaker’s pause or a hanging send’s timeout, whichever is longer', () => {
    for (const random of [0, 0.5, 0.999]) {
      expect(heldBackRetryMs(1, config, 'held-back', { random: () => random })).toBeGreaterThanOrEqual(5000);
      expect(
        heldBackRetryMs(1, { BREAKER_RESET_MS: 1000, OUTBOUND_TIMEOUT_MS: 3000 }, 'held-back', {
          random: () => random,
        }),
      ).toBeGreaterThanOrEqual(3000);
    }
  });

  it('doubles with each look, to a minute at most', () => {
    const ceilings = [1, 2, 3, 4, 10].map((n) =>
      heldBackRetryMs(n, config, 'held-back', { random: () => 1 }),
    );
    expect(ceilings).toStrictEqual([10_000, 20_000, 40_000, 60_000, 60_000]);
    expect(
      heldBackRetryMs(1, { BREAKER_RESET_MS: 600_000, OUTBOUND_TIMEOUT_MS: 2000 }, 'held-back', {
        random: () => 1,
      }),
    ).toBe(60_000);
  });
});

describe('the wait of a message whose provider account has been held back a while', () => {
  const config = { BREAKER_RESET_MS: 5000, OUTBOUND_TIMEOUT_MS: 2000 };

  it('is from half to all of the time the account has been held back (the backoff’s jitter), a minute at most, from the first look', () => {
    for (const random of [0, 0.5, 0.999]) {
      const wait = heldBackRetryMs(1, config, 'held-back', { random: () => random, heldForMs: 40_000 });
      expect(wait).toBeGreaterThanOrEqual(20_000);
      expect(wait).toBeLessThanOrEqual(40_000);
    }
    const ceilings = [30_000, 60_000, 3_600_000].map((held) =>
      heldBackRetryMs(1, config, 'held-back', { random: () => 1, heldForMs: held }),
    );
    expect(ceilings).toStrictEqual([30_000, 60_000, 60_000]);
  });

  it('is the look’s own when that is longer, or the account was held back no longer than the first backoff’s base', () => {
    expect(heldBackRetryMs(4, config, 'held-back', { random: () => 1, heldForMs: 20_000 })).toBe(60_000);
    expect(heldBackRetryMs(1, config, 'held-back', { random: () => 1, heldForMs: 10_000 })).toBe(10_000);
    expect(heldBackRetryMs(1, config, 'held-back', { random: () => 0, heldForMs: 10_000 })).toBe(5_000);
  });

  it('is not for a busy account (its turn comes as its sends are answered)', () => {
    expect(heldBackRetryMs(1, config, 'busy', { random: () => 1, heldForMs: 3_600_000 })).toBe(100);
  });
});

describe('the wait of a message whose provider account is busy (its sends full, and answered)', () => {
  const config = { BREAKER_RESET_MS: 5000, OUTBOUND_TIMEOUT_MS: 5000 };

  it('is a tenth of a second at first, not the breaker’s pause: a turn comes as a send is answered', () => {
    for (const random of [0, 0.5, 0.999]) {
      const wait = heldBackRetryMs(1, config, 'busy', { random: () => random });
      expect(wait).toBeGreaterThanOrEqual(50);
      expect(wait).toBeLessThanOrEqual(100);
    }
  });

  it('doubles with each look, to 5 s at most: a message is not left sleeping long after its account has caught up', () => {
    const ceilings = [1, 2, 3, 4, 6, 7, 20].map((n) =>
      heldBackRetryMs(n, config, 'busy', { random: () => 1 }),
    );
    expect(ceilings).toStrictEqual([100, 200, 400, 800, 3200, 5000, 5000]);
  });
});
