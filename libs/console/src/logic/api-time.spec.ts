import { displayApiTime, formatDuration, formatUtc, formatUtcMinute, parseApiTime } from './api-time';

const AT_16_02_44 = Date.UTC(2026, 10, 29, 16, 2, 44);

describe('parseApiTime', () => {
  it('reads Plivo time strings', () => {
    expect(parseApiTime('2026-11-29 16:02:44 +0000 UTC')).toBe(AT_16_02_44);
  });

  it('reads Plivo time strings with microseconds, keeping milliseconds', () => {
    expect(parseApiTime('2026-11-29 16:02:44.123456 +0000 UTC')).toBe(AT_16_02_44 + 123);
  });

  it('applies a non-zero offset', () => {
    expect(parseApiTime('2026-11-29 17:02:44 +0100 CET')).toBe(AT_16_02_44);
    expect(parseApiTime('2026-11-29T11:02:44-05:00')).toBe(AT_16_02_44);
  });

  it('reads ISO 8601 with and without milliseconds', () => {
    expect(parseApiTime('2026-11-29T16:02:44Z')).toBe(AT_16_02_44);
    expect(parseApiTime('2026-11-29T16:02:44.500Z')).toBe(AT_16_02_44 + 500);
    expect(parseApiTime('2026-11-29T16:02Z')).toBe(Date.UTC(2026, 10, 29, 16, 2));
  });

  it('treats a time without zone as UTC', () => {
    expect(parseApiTime('2026-11-29 16:02:44')).toBe(AT_16_02_44);
  });

  it('returns null for absent and unreadable values', () => {
    expect(parseApiTime(null)).toBeNull();
    expect(parseApiTime(undefined)).toBeNull();
    expect(parseApiTime('')).toBeNull();
    expect(parseApiTime('yesterday')).toBeNull();
    expect(parseApiTime('2026-02-30 10:00:00 +0000 UTC')).toBeNull();
    expect(parseApiTime('2026-11-29 24:00:00 +0000 UTC')).toBeNull();
  });
});

describe('formatting', () => {
  it('shows times in UTC', () => {
    expect(formatUtc(AT_16_02_44)).toBe('2026-11-29 16:02:44 UTC');
    expect(formatUtcMinute(AT_16_02_44)).toBe('2026-11-29 16:02 UTC');
  });

  it('shows API times in UTC, a dash when absent and the raw text when unreadable', () => {
    expect(displayApiTime('2026-11-29 17:02:44 +0100 CET')).toBe('2026-11-29 16:02:44 UTC');
    expect(displayApiTime(null)).toBe('—');
    expect(displayApiTime('  ')).toBe('—');
    expect(displayApiTime('soon')).toBe('soon');
  });

  it('formats durations for people', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration('45')).toBe('45 s');
    expect(formatDuration(65)).toBe('1 min 5 s');
    expect(formatDuration(120)).toBe('2 min');
    expect(formatDuration(3600 + 180 + 7)).toBe('1 h 3 min');
    expect(formatDuration(7200)).toBe('2 h');
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration('n/a')).toBe('—');
    expect(formatDuration(-3)).toBe('—');
  });
});
