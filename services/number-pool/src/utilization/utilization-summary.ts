import { sameHolder } from '@maskline/contracts';
/** The pool's use from its live holds: numbers in use, sessions per number, and Δ (the most holds of one party). */
export function summarize(
  holds: ReadonlyArray<{ virtualNumber: string; party: string; allocationId: string }>,
) {
  const sessionsPerNumber = new Map<string, Set<string>>();
  const perParty = new Map<string, number>();
  const sessions = new Set<string>();
  for (const h of holds) {
    sessions.add(h.allocationId);
    const set = sessionsPerNumber.get(h.virtualNumber) ?? new Set<string>();
    set.add(h.allocationId);
    sessionsPerNumber.set(h.virtualNumber, set);
    perParty.set(h.party, (perParty.get(h.party) ?? 0) + 1);
  }
  const counts = [...sessionsPerNumber.values()].map((s) => s.size);
  const delta = Math.max(0, ...perParty.values());
  return {
    numbersInUse: sessionsPerNumber.size,
    liveSessions: sessions.size,
    sessionsPerNumber: {
      max: Math.max(0, ...counts),
      mean:
        counts.length === 0 ? 0 : Math.round((counts.reduce((a, b) => a + b, 0) / counts.length) * 100) / 100,
    },
    delta,
    plivoRuleNumbers: delta === 0 ? 0 : 2 * delta - 1,
  };
}

export interface OwnedNumber {
  _id: string;
  country: string;
  subaccountId: string | null;
}

/**
 * The utilization an owner sees: its numbers (a main account's own, not its subaccounts'; a
 * subaccount's) and the live holds on them, so "in use" never exceeds "total". A main account sees a
 * subaccount's with the `subaccount` parameter.
 */
export function utilizationOfScope(
  numbers: readonly OwnedNumber[],
  holds: ReadonlyArray<{ virtualNumber: string; party: string; allocationId: string }>,
  subaccountId: string | null,
) {
  const owned = numbers.filter((n) => sameHolder(n.subaccountId, subaccountId));
  const ownedSet = new Set(owned.map((n) => n._id));
  const visible = holds.filter((h) => ownedSet.has(h.virtualNumber));
  const inUse = new Set(visible.map((h) => h.virtualNumber));
  const countries = new Map<string, { numbersTotal: number; numbersInUse: number }>();
  for (const n of owned) {
    const c = countries.get(n.country) ?? { numbersTotal: 0, numbersInUse: 0 };
    c.numbersTotal++;
    if (inUse.has(n._id)) c.numbersInUse++;
    countries.set(n.country, c);
  }
  return {
    ...summarize(visible),
    numbersTotal: owned.length,
    numbersByCountry: [...countries]
      .map(([country, c]) => ({ country, ...c }))
      .sort((a, b) => a.country.localeCompare(b.country)),
  };
}
