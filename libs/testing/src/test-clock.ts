import type { Clock } from '@maskline/service-kit';

/** A clock that runs with real time and can be moved ahead: a test skips a wait instead of sleeping it. */
export interface TestClock {
  readonly now: Clock;
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    advance: (ms) => {
      offsetMs += ms;
    },
  };
}
