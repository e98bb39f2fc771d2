/** The pool's use from its live holds: numbers in use, sessions per number, and Δ (the most holds of one party). */
export function summarize(holds: Array<{ virtualNumber: string; party: string; allocationId: string }>) {
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
