import { fromPlivoNumber, isPlivoFilterTime, parsePlivoFilterTime, plivoTime, toPlivoNumber } from './index';

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

  it('takes as a filter time only a day and an hour that exist, in its shape', () => {
    for (const ok of ['2026-11-28', '2026-11-28 09:05', '2026-11-28 23:59:59', '2028-02-29 00:00:00.123456'])
      expect(isPlivoFilterTime(ok)).toBe(true);
    for (const bad of [
      '2026-13-01',
      '2026-00-10',
      '2026-02-30',
      '2027-02-29',
      '2026-01-01 24:00',
      '2026-01-01 99:99',
      '2026-01-01 10:60',
      '2026-01-01 10:00:60',
      'yesterday',
      '2026-1-01',
      ['2026-11-28'],
      20261128,
    ])
      expect(isPlivoFilterTime(bad)).toBe(false);
  });
});
