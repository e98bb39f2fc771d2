import { refill, withdraw, type TokenBucketState } from './token-bucket';

describe('token bucket arithmetic', () => {
  const rule = { ratePerSecond: 10, burst: 20 };

  it('starts full, refills at the rate, and never past the burst', () => {
    expect(refill(null, rule, 1000)).toEqual({ tokens: 20, at: 1000 });
    expect(refill({ tokens: 0, at: 1000 }, rule, 1500)).toEqual({ tokens: 5, at: 1500 });
    expect(refill({ tokens: 0, at: 1000 }, rule, 60_000)).toEqual({ tokens: 20, at: 60_000 });
  });

  it('adds nothing when a replica’s clock is behind the last writer’s', () => {
    expect(refill({ tokens: 3, at: 2000 }, rule, 1000)).toEqual({ tokens: 3, at: 2000 });
  });

  it('grants whole tokens up to what is there, and says when the next one comes', () => {
    expect(withdraw(null, rule, 0, 5)).toMatchObject({ granted: 5, state: { tokens: 15 } });
    expect(withdraw({ tokens: 2.5, at: 0 }, rule, 0, 5)).toMatchObject({
      granted: 2,
      state: { tokens: 0.5 },
    });
    const empty = withdraw({ tokens: 0.2, at: 0 }, rule, 0, 5);
    expect(empty).toMatchObject({ granted: 0, state: { tokens: 0.2 } });
    expect(empty.retryAfterSeconds).toBe(1);
    expect(withdraw({ tokens: 0, at: 0 }, { ratePerSecond: 0.1, burst: 1 }, 0, 1).retryAfterSeconds).toBe(10);
  });

  it('over any stretch of time hands out at most burst + rate × time', () => {
    let state: TokenBucketState | null = null;
    let granted = 0;
    for (let t = 0; t <= 10_000; t += 7) {
      const out = withdraw(state, rule, t, 3);
      granted += out.granted;
      state = out.state;
    }
    expect(granted).toBeLessThanOrEqual(20 + 10 * 10);
    expect(granted).toBeGreaterThanOrEqual(20 + 10 * 10 - 1);
  });
});
