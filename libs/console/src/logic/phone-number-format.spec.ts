import { formatCount, formatPhoneNumber } from './phone-number-format';

describe('formatPhoneNumber', () => {
  it('prefixes Plivo-style digits with "+"', () => {
    expect(formatPhoneNumber('14155550100')).toBe('+14155550100');
    expect(formatPhoneNumber(' 4915112345678 ')).toBe('+4915112345678');
  });

  it('keeps numbers that already carry "+" and masked values as they are', () => {
    expect(formatPhoneNumber('+14155550100')).toBe('+14155550100');
    expect(formatPhoneNumber('+49 15•••••23')).toBe('+49 15•••••23');
    expect(formatPhoneNumber('sip:alice@example.com')).toBe('sip:alice@example.com');
  });

  it('shows a dash when there is no number', () => {
    expect(formatPhoneNumber(null)).toBe('—');
    expect(formatPhoneNumber('')).toBe('—');
  });
});

describe('formatCount', () => {
  it('groups thousands and shows a dash for unknown counts', () => {
    expect(formatCount(12345)).toBe('12,345');
    expect(formatCount(0)).toBe('0');
    expect(formatCount(null)).toBe('—');
    expect(formatCount(Number.NaN)).toBe('—');
  });
});
