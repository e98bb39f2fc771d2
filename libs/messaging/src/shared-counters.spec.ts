import { recounted, type CounterReading } from './shared-counters';

/** A reading: `n` now, `g` ever taken away, `r` recounts so far. */
const reading = (n: number, g: number, r = 0): CounterReading => ({ n, g, r, revision: 1 });

describe('recounted: what a recount of the record proves about a counter', () => {
  it('takes away what was counted and never recorded (a creation that died before its write)', () => {
    // 1 recorded, 3 counted; nothing changed while the record was counted.
    expect(recounted(reading(3, 0), reading(3, 0), 1)).toBe(1);
  });

  it('puts back what was taken away twice (an end given back twice)', () => {
    expect(recounted(reading(2, 2), reading(2, 2), 3)).toBe(3);
  });

  it('keeps what ended while the record was counted, before the count reached it (never taken away twice)', () => {
    // 100 live when it began; 10 ended before the count reached them (given back: the counter is
    // 90, and the record counted 90).
    expect(recounted(reading(100, 0), reading(90, 10), 90)).toBe(90);
  });

  it('keeps what was created while the record was counted, whether the count saw it or not', () => {
    expect(recounted(reading(10, 0), reading(15, 0), 10)).toBe(15);
    expect(recounted(reading(10, 0), reading(15, 0), 15)).toBe(15);
  });

  it('changes nothing another recount set since it began (two at once would correct twice)', () => {
    // The counter stood at 100 with 60 recorded; another recount already set it to 60.
    expect(recounted(reading(100, 0, 0), reading(60, 0, 1), 60)).toBeNull();
  });

  it('never goes below 0', () => {
    expect(recounted(reading(0, 5), reading(0, 9), 0)).toBe(0);
  });
});
