import { fromPlivoNumber, parsePlivoFilterTime, plivoTime, toPlivoNumber } from './index';

describe('Plivo wire formats', () => {
  it('writes numbers without + and reads them back as E.164', () => {
    expect(toPlivoNumber('+14155550100')).toBe('14155550100');
    expect(toPlivoNumber(null)).toBe('');
    expect(fromPlivoNumber('14155550100')).toBe('+14155550100');
    expect(fromPlivoNumber(' +14155550100 ')).toBe('+14155550100');
    expect(fromPlivoNumber('sip:alice@x')).toBe('sip:alice@x');
    expect(fromPlivoNumber(undefined)).toBeUndefined();
  });

  it('writes times as Plivo does, and reads its filter times', () => {
    expect(plivoTime('2026-11-28T09:05:07.123Z')).toBe('2026-11-28 09:05:07 +0000 UTC');
    expect(plivoTime(null)).toBe('');
    expect(parsePlivoFilterTime('2026-11-28 09:05')).toBe('2026-11-28T09:05:00.000Z');
    expect(parsePlivoFilterTime('2026-11-28')).toBe('2026-11-28T00:00:00.000Z');
  });
});
