import { packAscending, unpackAscending } from './packed-ascending';

const DAY = 86_400_000;

describe("packed ascending numbers (a day tally's starts)", () => {
  it('packs a few bytes each, and unpacks as they were (equal ones and far ones too)', () => {
    const base = Date.parse('2026-11-20T00:00:00Z');
    const starts = [base - 3 * DAY, base, base, base + 1, base + 4_000, base + 86_399_999];
    expect(unpackAscending(packAscending(starts)!)).toEqual(starts);
    expect(unpackAscending(packAscending([])!)).toEqual([]);
    const day = Array.from({ length: 20_000 }, (_, i) => base + i * 4_000);
    expect(packAscending(day)!.length).toBeLessThan(4 * day.length);
  });

  it('does not pack what would unpack shifted: below 0, a fraction, out of order, not a number', () => {
    const base = Date.parse('2026-11-20T00:00:00Z');
    for (const bad of [[-1000], [base + 0.5], [base + 1, base], [Number.NaN]]) {
      expect(packAscending(bad)).toBeUndefined();
    }
  });
});
