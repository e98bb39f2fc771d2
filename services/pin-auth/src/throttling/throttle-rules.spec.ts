import fc from 'fast-check';
import {
  DAY_MS,
  EMPTY_STATE,
  isIdle,
  lockedUntil,
  withFailure,
  withFailures,
  type Failure,
  type ThrottleRule,
} from './throttle-rules';

const RULE: ThrottleRule = {
  maxFailures: 5,
  windowSeconds: 900,
  lockoutSeconds: 900,
  maxLockoutSeconds: 86400,
};
const T0 = Date.UTC(2026, 10, 28, 12);
let n = 0;
const failure = (at: number): Failure => ({ at, id: `f${n++}` });

describe('throttle rules', () => {
  it('locks a key at the bar, for the base lockout, and not before', () => {
    let state = EMPTY_STATE;
    for (let i = 0; i < 4; i++) state = withFailure(state, failure(T0 + i * 1000), RULE).state;
    expect(lockedUntil(state, T0 + 4000)).toBeUndefined();
    const fifth = withFailure(state, failure(T0 + 4000), RULE);
    expect(fifth.started).toEqual({ level: 1, from: T0 + 4000, until: T0 + 4000 + 900_000 });
    expect(lockedUntil(fifth.state, T0 + 5000)).toBe(T0 + 4000 + 900_000);
    expect(lockedUntil(fifth.state, T0 + 4000 + 900_000)).toBeUndefined();
  });

  it('counts only failures inside the window', () => {
    let state = EMPTY_STATE;
    for (let i = 0; i < 4; i++) state = withFailure(state, failure(T0 + i * 1000), RULE).state;
    const late = withFailure(state, failure(T0 + 900_000 + 500), RULE);
    expect(late.started).toBeUndefined();
    expect(late.state.failures.map((f) => f.at)).toEqual([T0 + 1000, T0 + 2000, T0 + 3000, T0 + 900_500]);
  });

  it('ignores failures while locked, starts a fresh budget after, and doubles each lockout that day', () => {
    let state = withFailures(
      EMPTY_STATE,
      [1, 2, 3, 4, 5].map((i) => failure(T0 + i)),
      RULE,
    );
    const until1 = lockedUntil(state, T0 + 10)!;
    state = withFailure(state, failure(T0 + 100), RULE).state;
    expect(state.failures).toEqual([]);
    let second;
    for (let i = 1; i <= 5; i++) {
      second = withFailure(state, failure(until1 + i), RULE);
      state = second.state;
    }
    expect(second?.started?.level).toBe(2);
    expect(lockedUntil(state, until1 + 10)).toBe(until1 + 5 + 1800_000);
    // More than a day after both began, the level falls back.
    const nextDay = T0 + DAY_MS + 3600_000;
    let third;
    for (let i = 1; i <= 5; i++) {
      third = withFailure(state, failure(nextDay + i), RULE);
      state = third.state;
    }
    expect(third?.started?.level).toBe(1);
  });

  it('caps the lockout at the maximum', () => {
    const rule = { ...RULE, maxLockoutSeconds: 1000 };
    let state = EMPTY_STATE;
    let at = T0;
    for (let lockout = 0; lockout < 4; lockout++) {
      for (let i = 0; i < 5; i++) state = withFailure(state, failure(++at), rule).state;
      at = lockedUntil(state, at)!;
    }
    const last = state.lockouts[state.lockouts.length - 1];
    expect(last.until - last.from).toBe(1000_000);
  });

  it('counts a failure once, however often a replica sees it come back', () => {
    const f = failure(T0);
    const once = withFailure(EMPTY_STATE, f, RULE).state;
    expect(withFailures(once, [f, f, f, f, f], RULE)).toEqual(once);
  });

  it('forgets nothing that matters: idle only past the window and a day after the last lockout', () => {
    const state = withFailures(
      EMPTY_STATE,
      [1, 2, 3, 4, 5].map((i) => failure(T0 + i)),
      RULE,
    );
    expect(isIdle(state, T0 + 1000_000, RULE)).toBe(false);
    expect(isIdle(state, T0 + DAY_MS + 10, RULE)).toBe(true);
  });

  it('loses no failure whatever order replicas write them in: the bar holds (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ offset: fc.integer({ min: 0, max: 899_000 }), order: fc.nat() }), {
          maxLength: 12,
        }),
        (draws) => {
          // Failures inside one window, reaching the shared entry in any order.
          const arriving = [...draws].sort((x, y) => x.order - y.order).map((d) => failure(T0 + d.offset));
          let state = EMPTY_STATE;
          let lockouts = 0;
          for (const f of arriving) {
            const next = withFailure(state, f, RULE);
            state = next.state;
            if (next.started) lockouts++;
          }
          if (arriving.length >= RULE.maxFailures) {
            expect(lockouts).toBe(1);
          } else {
            expect(lockouts).toBe(0);
            expect(state.failures).toHaveLength(arriving.length);
          }
        },
      ),
    );
  });
});
