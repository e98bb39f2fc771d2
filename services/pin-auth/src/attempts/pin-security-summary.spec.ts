import type { PinAttempt } from '@maskline/contracts';
import { PIN_SECURITY_TOP, summarizePinSecurity } from './pin-security-summary';

const HOUR = 3600_000;
const now = Date.parse('2026-11-29T12:30:00Z');
const entry = (
  at: string,
  outcome: PinAttempt['outcome'],
  virtualNumber = '+14155550100',
  callerKey = 'k1',
): Pick<PinAttempt, 'at' | 'outcome' | 'virtualNumber' | 'callerKey' | 'callerMasked'> => ({
  at,
  outcome,
  virtualNumber,
  callerKey,
  callerMasked: `+*******${callerKey}`,
});

describe('summarizePinSecurity', () => {
  it('has one bucket per hour, oldest first, ending with the current hour', () => {
    const s = summarizePinSecurity([], now, 24);
    expect(s.buckets).toHaveLength(24);
    expect(s.buckets[23].at).toBe('2026-11-29T12:00:00.000Z');
    expect(s.buckets[0].at).toBe(new Date(Date.parse('2026-11-29T12:00:00Z') - 23 * HOUR).toISOString());
  });

  it('counts outcomes in their hour and leaves out entries outside the window', () => {
    const s = summarizePinSecurity(
      [
        entry('2026-11-29T12:01:00Z', 'failed'),
        entry('2026-11-29T12:02:00Z', 'success'),
        entry('2026-11-29T11:59:59Z', 'locked'),
        entry('2026-11-28T12:59:59Z', 'failed'), // 24 h window starts 2026-11-28T13:00
        entry('2026-11-29T12:03:00Z', 'authorized-caller'),
      ],
      now,
      24,
    );
    expect(s.buckets[23]).toMatchObject({ successes: 1, failures: 1, lockouts: 0 });
    expect(s.buckets[22]).toMatchObject({ successes: 0, failures: 0, lockouts: 1 });
    expect(s.buckets.reduce((n, b) => n + b.failures, 0)).toBe(1);
  });

  it('ranks numbers and callers by failures and lockouts, leaving out those with none', () => {
    const s = summarizePinSecurity(
      [
        entry('2026-11-29T12:01:00Z', 'failed', '+1A', 'a'),
        entry('2026-11-29T12:02:00Z', 'failed', '+1B', 'b'),
        entry('2026-11-29T12:03:00Z', 'locked', '+1B', 'b'),
        entry('2026-11-29T12:04:00Z', 'success', '+1C', 'c'),
      ],
      now,
      2,
    );
    expect(s.byNumber.map((n) => n.virtualNumber)).toEqual(['+1B', '+1A']);
    expect(s.byCaller[0]).toEqual({
      callerKey: 'b',
      callerMasked: '+*******b',
      successes: 0,
      failures: 1,
      lockouts: 1,
    });
    expect(s.byCaller.some((c) => c.callerKey === 'c')).toBe(false);
  });

  it('lists at most the top few numbers', () => {
    const many = Array.from({ length: PIN_SECURITY_TOP + 5 }, (_, i) =>
      entry('2026-11-29T12:01:00Z', 'failed', `+1${i}`, `k${i}`),
    );
    expect(summarizePinSecurity(many, now, 1).byNumber).toHaveLength(PIN_SECURITY_TOP);
  });
});
