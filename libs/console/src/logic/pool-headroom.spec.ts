import { adviseHeadroom, describeHeadroom, readHeadroomPercent } from './pool-headroom';

describe('adviseHeadroom', () => {
  const pool = { numbersTotal: 100, numbersInUse: 100, plivoRuleNumbers: 0, peakInUse: null };

  it('adds exactly the headroom, without a floating-point extra number', () => {
    expect(adviseHeadroom(pool, 20)).toEqual({ headroomPercent: 20, needed: 100, target: 120, toAdd: 20 });
    // 100 × 1.1 is 110.00000000000001 in floating point.
    expect(adviseHeadroom(pool, 10)).toEqual({ headroomPercent: 10, needed: 100, target: 110, toAdd: 10 });
    expect(adviseHeadroom({ ...pool, numbersTotal: 50, numbersInUse: 50 }, 10).target).toBe(55);
  });

  it('rounds the target up to whole numbers', () => {
    expect(adviseHeadroom({ ...pool, numbersTotal: 10, numbersInUse: 9 }, 20).toAdd).toBe(1); // 10.8 → 11
    expect(adviseHeadroom({ ...pool, numbersTotal: 0, numbersInUse: 7 }, 12.5).target).toBe(8); // 7.875 → 8
  });

  it("sizes for the 24-hour peak and for Plivo's 2Δ−1 rule, whichever is larger", () => {
    const quiet = { numbersTotal: 40, numbersInUse: 10, plivoRuleNumbers: 0, peakInUse: 50 };
    expect(adviseHeadroom(quiet, 20)).toMatchObject({ needed: 50, target: 60, toAdd: 20 });
    expect(adviseHeadroom({ ...quiet, plivoRuleNumbers: 59 }, 0)).toMatchObject({ needed: 59, toAdd: 19 });
  });

  it('never asks for a negative number of numbers', () => {
    expect(adviseHeadroom({ ...pool, numbersTotal: 500 }, 20).toAdd).toBe(0);
    expect(
      adviseHeadroom({ numbersTotal: 0, numbersInUse: 0, plivoRuleNumbers: 0, peakInUse: null }, 20),
    ).toEqual({
      headroomPercent: 20,
      needed: 0,
      target: 0,
      toAdd: 0,
    });
  });
});

describe('describeHeadroom', () => {
  it('says how many numbers to add, or that the pool is big enough', () => {
    expect(describeHeadroom({ headroomPercent: 20, needed: 100, target: 120, toAdd: 20 })).toBe(
      'Add 20 numbers to keep 20% headroom.',
    );
    expect(describeHeadroom({ headroomPercent: 12.5, needed: 7, target: 8, toAdd: 1 })).toBe(
      'Add 1 number to keep 12.5% headroom.',
    );
    expect(describeHeadroom({ headroomPercent: 20, needed: 10, target: 12, toAdd: 0 })).toBe(
      'Enough numbers for 20% headroom.',
    );
  });
});

describe('readHeadroomPercent', () => {
  it('accepts 0 to 1000 percent', () => {
    expect(readHeadroomPercent(' 20 ')).toEqual({ ok: true, percent: 20 });
    expect(readHeadroomPercent('0')).toEqual({ ok: true, percent: 0 });
    expect(readHeadroomPercent('1000')).toEqual({ ok: true, percent: 1000 });
  });

  it('rejects empty, negative, too large and non-numeric values with a hint', () => {
    for (const text of ['', '-5', '1001', 'lots']) {
      expect(readHeadroomPercent(text)).toEqual({
        ok: false,
        message: 'Enter a headroom from 0 to 1000 percent.',
      });
    }
  });
});
