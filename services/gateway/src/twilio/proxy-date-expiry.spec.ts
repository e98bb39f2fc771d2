import { CodedError } from '@maskline/contracts';
import { dateExpiryOf } from './proxy-session-params.dto';

describe('DateExpiry', () => {
  it.each([
    ['2030-01-31T12:00:00Z', '2030-01-31T12:00:00.000Z'],
    ['2030-01-31T12:00:00.250Z', '2030-01-31T12:00:00.250Z'],
    ['2030-01-31T14:00:00+02:00', '2030-01-31T12:00:00.000Z'],
    ['2032-02-29T00:00:00Z', '2032-02-29T00:00:00.000Z'],
  ])('%s is taken as %s', (raw, iso) => {
    expect(dateExpiryOf({ DateExpiry: raw })).toBe(iso);
  });

  it.each([
    '2030-02-30T00:00:00Z', // no such day (was March 2)
    '2031-02-29T00:00:00Z', // not a leap year
    '2030-01-31T12:00:00', // no offset (was the server's time zone)
    '12/31/2030',
    'March 1, 2031',
    '10000-01-01T00:00:00Z',
    '2030-01-31',
  ])('%s is refused, naming DateExpiry', (raw) => {
    let thrown: unknown;
    try {
      dateExpiryOf({ DateExpiry: raw });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CodedError);
    expect((thrown as CodedError).field).toBe('DateExpiry');
  });

  it('absent or empty: none', () => {
    expect(dateExpiryOf({})).toBeUndefined();
    expect(dateExpiryOf({ DateExpiry: '' })).toBeUndefined();
  });
});
