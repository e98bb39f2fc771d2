import { decidedSpanMs, keepsEvent, rememberedSpanMs, type StreamHolding } from './event-retention';

const H = 3_600_000;
const DAY = 24 * H;
const NOW = Date.UTC(2026, 11, 4, 12);

const holding = (over: Partial<StreamHolding>): StreamHolding => ({
  messages: 1000,
  bytes: 1024,
  maxBytes: 10 * 1024,
  maxAgeMs: 7 * DAY,
  firstAt: NOW - H,
  firstSeq: 1,
  ...over,
});

describe('how far back the event stream remembers', () => {
  it('is its age limit while empty, unbounded, or less than half full (a stream just made is not judged by its first seconds)', () => {
    expect(rememberedSpanMs(holding({ messages: 0, bytes: 0 }), NOW)).toBe(7 * DAY);
    expect(rememberedSpanMs(holding({ maxBytes: -1 }), NOW)).toBe(7 * DAY);
    expect(rememberedSpanMs(holding({ bytes: 10, maxBytes: 10_000, firstAt: NOW - 1000 }), NOW)).toBe(
      7 * DAY,
    );
    // No age limit (0): kept until its bound.
    expect(rememberedSpanMs(holding({ maxAgeMs: 0 }), NOW)).toBe(Infinity);
    expect(rememberedSpanMs(holding({ maxAgeMs: 0, bytes: 5 * 1024 }), NOW)).toBe(2 * H);
  });

  it('is the age its bound is reached at, at the rate it has filled, once half full: full, the age of its oldest event', () => {
    // Half its bound in an hour: two hours.
    expect(rememberedSpanMs(holding({ bytes: 5 * 1024, maxBytes: 10 * 1024 }), NOW)).toBe(2 * H);
    // Half in four days: eight days, past the age limit.
    expect(
      rememberedSpanMs(holding({ bytes: 5 * 1024, maxBytes: 10 * 1024, firstAt: NOW - 4 * DAY }), NOW),
    ).toBe(7 * DAY);
    // Full (a flood): what it holds now.
    expect(rememberedSpanMs(holding({ bytes: 10 * 1024, firstAt: NOW - 7 * H }), NOW)).toBe(7 * H);
  });
});

/** 2¹⁵ s (about 9.1 h): a span on the grid retries are decided on. */
const GRID = 2 ** 15 * 1000;

describe('the span a retry’s fate is decided on (seen by the tenant whose event it is)', () => {
  it('is what the stream remembers, rounded down to a power of two seconds, while it fills', () => {
    expect(decidedSpanMs(holding({ bytes: 10 * 1024, firstAt: NOW - GRID }), NOW)).toBe(GRID);
    // Anything from one grid point to the next is decided alike: a tenant probing with its own
    // retry delays learns the traffic of every tenant only to a factor of two.
    for (const held of [GRID + 1000, 1.5 * GRID, 2 * GRID - 1000]) {
      expect(decidedSpanMs(holding({ bytes: 10 * 1024, firstAt: NOW - held }), NOW)).toBe(GRID);
    }
    expect(decidedSpanMs(holding({ bytes: 10 * 1024, firstAt: NOW - 2 * GRID }), NOW)).toBe(2 * GRID);
  });

  it('is never above what the stream remembers, and a span under a second as it is', () => {
    for (const held of [1000, 1001, 3 * 1000, 4 * 1000 - 1, 12_345_678, 6 * DAY]) {
      const full = holding({ bytes: 10 * 1024, firstAt: NOW - held });
      expect(decidedSpanMs(full, NOW)).toBeLessThanOrEqual(rememberedSpanMs(full, NOW));
      expect(decidedSpanMs(full, NOW)).toBeGreaterThan(rememberedSpanMs(full, NOW) / 2);
    }
    expect(decidedSpanMs(holding({ bytes: 10 * 1024, firstAt: NOW - 400 }), NOW)).toBe(400);
  });

  it('is its age limit (configuration, not traffic) as it is, and unbounded without one', () => {
    expect(decidedSpanMs(holding({ bytes: 10, maxBytes: 10_000 }), NOW)).toBe(7 * DAY);
    expect(decidedSpanMs(holding({ maxAgeMs: 0 }), NOW)).toBe(Infinity);
  });
});

describe('whether a retry is trusted to the event stream', () => {
  const full = holding({ bytes: 10 * 1024, firstAt: NOW - GRID });

  it('within half of what the stream remembers, counted from the event’s publishing', () => {
    expect(keepsEvent(full, NOW, GRID / 2, NOW)).toBe(true);
    expect(keepsEvent(full, NOW, GRID / 2 + 1, NOW)).toBe(false);
    // An event published a quarter of the span ago, retried in half of it: past half.
    expect(keepsEvent(full, NOW - GRID / 4, GRID / 2, NOW)).toBe(false);
    expect(keepsEvent(full, NOW - GRID / 4, GRID / 4, NOW)).toBe(true);
  });

  it('the same a second or most of the span later: the decision does not follow every tenant’s traffic to the second', () => {
    const fuller = holding({ bytes: 10 * 1024, firstAt: NOW - 1.9 * GRID });
    for (const delay of [GRID / 2, GRID / 2 + 1]) {
      expect(keepsEvent(fuller, NOW, delay, NOW)).toBe(keepsEvent(full, NOW, delay, NOW));
    }
  });

  it('within all of what the stream remembers, exactly, for a retry only the consumer host can give up (seconds to a minute): no event the stream still holds is dropped', () => {
    expect(keepsEvent(full, NOW - GRID + 30 * 60_000, 30 * 60_000, NOW, 'now')).toBe(true);
    expect(keepsEvent(full, NOW - GRID + 30 * 60_000 - 1, 30 * 60_000 + 2, NOW, 'now')).toBe(false);
    // Between grid points: all of the span it remembers, not the grid point below it.
    const fuller = holding({ bytes: 10 * 1024, firstAt: NOW - 1.9 * GRID });
    expect(keepsEvent(fuller, NOW - 1.8 * GRID, 60_000, NOW, 'now')).toBe(true);
    expect(keepsEvent(fuller, NOW - 1.9 * GRID, 60_000, NOW, 'now')).toBe(false);
  });

  it('always, before the stream has been read (as before it had a bound)', () => {
    expect(keepsEvent(undefined, NOW - 30 * DAY, DAY, NOW)).toBe(true);
  });

  it('up to half the age limit when the stream fills slowly: a callback’s day of retries is kept', () => {
    const slow = holding({ bytes: 10, maxBytes: 10_000 });
    expect(keepsEvent(slow, NOW, 23 * H, NOW)).toBe(true);
    expect(keepsEvent(slow, NOW, 3.5 * DAY + 1, NOW)).toBe(false);
  });
});
