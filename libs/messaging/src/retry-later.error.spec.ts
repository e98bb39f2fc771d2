import { backoffWithJitter } from './retry-later.error';

describe('backoffWithJitter', () => {
  it('grows exponentially and stays between half and all of the ceiling', () => {
    expect(backoffWithJitter(1, 500, 60_000, () => 0)).toBe(250);
    expect(backoffWithJitter(1, 500, 60_000, () => 1)).toBe(500);
    expect(backoffWithJitter(4, 500, 60_000, () => 0)).toBe(2000);
    expect(backoffWithJitter(4, 500, 60_000, () => 1)).toBe(4000);
  });

  it('never exceeds the cap however many attempts', () => {
    for (let attempt = 1; attempt < 60; attempt++) {
      expect(backoffWithJitter(attempt, 500, 60_000)).toBeLessThanOrEqual(60_000);
    }
  });
});
