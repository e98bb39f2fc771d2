import { DAY_MS, isIdle } from './throttle-rules';
import { dayEnd, dayOf, isQuotaState, spentMore, spentOn } from './unknown-caller-quota';

describe('unknown callers’ count per holder and UTC day', () => {
  const noon = Date.UTC(2026, 11, 7, 12);

  it('counts within the day of its time, and starts afresh the next', () => {
    const spent = spentMore(spentMore(undefined, 1, noon), 2, noon + 3600_000);
    expect(spent).toMatchObject({ day: dayOf(noon), count: 3 });
    expect(spentOn(spent, noon)).toBe(3);
    expect(spentOn(spent, noon + DAY_MS)).toBe(0);
    expect(spentMore(spent, 1, noon + DAY_MS)).toMatchObject({ day: dayOf(noon) + 1, count: 1 });
  });

  it('ends its day at the UTC midnight after its time', () => {
    expect(dayEnd(noon)).toBe(Date.UTC(2026, 11, 8));
    expect(dayEnd(Date.UTC(2026, 11, 8) - 1)).toBe(Date.UTC(2026, 11, 8));
    expect(dayEnd(Date.UTC(2026, 11, 8))).toBe(Date.UTC(2026, 11, 9));
  });

  it('tells a count from a throttle key’s state (they share the bucket), and reads as an idle one to a replica that cannot tell', () => {
    const spent = spentMore(undefined, 5, noon);
    expect(isQuotaState(spent)).toBe(true);
    expect(isQuotaState({ failures: [], lockouts: [] })).toBe(false);
    expect(isQuotaState(null)).toBe(false);
    const rule = { maxFailures: 5, windowSeconds: 900, lockoutSeconds: 900, maxLockoutSeconds: 86400 };
    expect(isIdle(spent, noon, rule)).toBe(true);
  });
});
