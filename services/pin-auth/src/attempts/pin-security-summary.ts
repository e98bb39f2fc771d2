import { HOUR_MS, hourlyWindowStart, type PinAttempt } from '@maskline/contracts';
/** The longest lists the view shows: the numbers and callers with the most failures. */
export const PIN_SECURITY_TOP = 20;

interface Counts {
  successes: number;
  failures: number;
  lockouts: number;
}

const zero = (): Counts => ({ successes: 0, failures: 0, lockouts: 0 });

function count(c: Counts, outcome: PinAttempt['outcome']): void {
  if (outcome === 'success') c.successes++;
  else if (outcome === 'failed') c.failures++;
  else if (outcome === 'locked') c.lockouts++;
}

const worstFirst = (a: Counts, b: Counts) => b.failures + b.lockouts - (a.failures + a.lockouts);

/**
 * PIN entries since `now − hours`: one bucket per hour (oldest first, every hour present), and the
 * numbers and callers with the most failures and lockouts (those with neither are left out).
 */
export function summarizePinSecurity(
  attempts: readonly Pick<PinAttempt, 'at' | 'outcome' | 'virtualNumber' | 'callerKey' | 'callerMasked'>[],
  now: number,
  hours: number,
  capped = false,
) {
  const firstHour = hourlyWindowStart(now, hours);
  const buckets = Array.from({ length: hours }, (_, i) => ({
    at: new Date(firstHour + i * HOUR_MS).toISOString(),
    ...zero(),
  }));
  const byNumber = new Map<string, Counts>();
  const byCaller = new Map<string, Counts & { callerMasked: string }>();
  for (const a of attempts) {
    const index = Math.floor((Date.parse(a.at) - firstHour) / HOUR_MS);
    if (index < 0 || index >= hours) continue;
    count(buckets[index], a.outcome);
    if (a.outcome !== 'failed' && a.outcome !== 'locked') continue;
    const n = byNumber.get(a.virtualNumber) ?? zero();
    count(n, a.outcome);
    byNumber.set(a.virtualNumber, n);
    const c = byCaller.get(a.callerKey) ?? { ...zero(), callerMasked: a.callerMasked };
    count(c, a.outcome);
    byCaller.set(a.callerKey, c);
  }
  return {
    capped,
    buckets,
    byNumber: [...byNumber]
      .map(([virtualNumber, c]) => ({ virtualNumber, ...c }))
      .sort(worstFirst)
      .slice(0, PIN_SECURITY_TOP),
    byCaller: [...byCaller]
      .map(([callerKey, c]) => ({ callerKey, ...c }))
      .sort(worstFirst)
      .slice(0, PIN_SECURITY_TOP),
  };
}
