import { seededRandom } from '@maskline/service-kit';
import { randomUUID } from 'node:crypto';
import { CodedError, PoolErrorCodes } from '@maskline/contracts';
import { InMemoryHoldStore } from '../src/allocation/in-memory-hold-store';
import { NumberAllocator, type AllocationStrategy } from '../src/allocation/number-allocator';
import type { Hold } from '../src/allocation/hold';

/** A traffic model: who talks to whom, for how long, how often. */
export interface Scenario {
  name: string;
  description: string;
  /** Simulated duration. */
  hours: number;
  /** Mean session arrivals per simulated minute (Poisson). */
  arrivalsPerMinute: number;
  cooloffSeconds: number;
  /** Numbers in the pool (enough that neither allocator runs out). */
  poolSize: number;
  /** Picks the parties of the next session, or undefined when nobody is available. */
  pickParties(live: ReadonlyMap<string, number>, rnd: () => number): [string, string] | undefined;
  /** Session length in seconds. */
  durationSeconds(rnd: () => number): number;
}

export interface SimulationResult {
  scenario: string;
  strategy: AllocationStrategy;
  sessions: number;
  refused: number;
  deltaPeak: number;
  peakNumbersInUse: number;
  allocationsPerSecond: number;
}

type Event =
  | { at: number; kind: 'end'; holds: Hold[] }
  | { at: number; kind: 'free'; parties: string[]; number: string };

/** Seeded: both allocators see the same traffic. */
export const seeded = seededRandom;

/**
 * Runs a scenario through the real allocator on its in-memory store port, on a simulated clock.
 * Δ and "numbers in use" count holds in cool-off too (they block their pair).
 */
export async function simulate(
  scenario: Scenario,
  strategy: AllocationStrategy,
  seed = 42,
): Promise<SimulationResult> {
  const rnd = seeded(seed);
  const pickRnd = seeded(seed * 7 + 1);
  const clock = { t: 0 };
  const store = new InMemoryHoldStore();
  const allocator = new NumberAllocator(store, {
    strategy,
    maxAttempts: 3,
    now: () => new Date(clock.t),
    random: seeded(seed * 13 + 5),
  });
  const pool = Array.from({ length: scenario.poolSize }, (_, i) => `+1202555${String(i).padStart(4, '0')}`);
  const liveSessions = new Map<string, number>(); // party → active sessions (for the traffic model)
  const blocking = new Map<string, number>(); // party → holds that block (active + cool-off)
  const perNumber = new Map<string, number>(); // number → holds that block
  const events: Event[] = [];
  const push = (e: Event) => {
    let lo = 0;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (events[mid].at <= e.at) lo = mid + 1;
      else hi = mid;
    }
    events.splice(lo, 0, e);
  };
  const bump = (m: Map<string, number>, k: string, d: number) => {
    const v = (m.get(k) ?? 0) + d;
    if (v === 0) m.delete(k);
    else m.set(k, v);
  };

  const endAt = scenario.hours * 3600_000;
  let nextArrival = 0;
  let sessions = 0;
  let refused = 0;
  let deltaPeak = 0;
  let peakInUse = 0;
  let allocMs = 0;

  while (nextArrival < endAt) {
    while (events.length > 0 && events[0].at <= nextArrival) {
      const e = events.shift() as Event;
      clock.t = e.at;
      if (e.kind === 'end') {
        await allocator.release(e.holds, scenario.cooloffSeconds, new Date(clock.t));
        for (const h of e.holds) bump(liveSessions, h.party, -1);
        push({
          at: e.at + scenario.cooloffSeconds * 1000,
          kind: 'free',
          parties: e.holds.map((h) => h.party),
          number: e.holds[0].virtualNumber,
        });
      } else {
        for (const p of e.parties) bump(blocking, p, -1);
        bump(perNumber, e.number, -e.parties.length);
      }
    }
    clock.t = nextArrival;
    const parties = scenario.pickParties(liveSessions, pickRnd);
    if (parties) {
      const started = performance.now();
      try {
        const a = await allocator.allocate({
          accountId: 'MABENCH0000000000000',
          allocationId: randomUUID(),
          parties,
          candidates: pool,
          exclude: new Set(),
          cooloffSeconds: scenario.cooloffSeconds,
          poolLabel: 'in the pool',
        });
        allocMs += performance.now() - started;
        sessions++;
        for (const p of parties) {
          bump(liveSessions, p, 1);
          bump(blocking, p, 1);
          deltaPeak = Math.max(deltaPeak, blocking.get(p) ?? 0);
        }
        bump(perNumber, a.virtualNumber, parties.length);
        peakInUse = Math.max(peakInUse, perNumber.size);
        push({ at: clock.t + scenario.durationSeconds(rnd) * 1000, kind: 'end', holds: a.holds });
      } catch (err) {
        // Only a full pool is a refusal; anything else is a bug in the allocator.
        if (!(err instanceof CodedError && err.code === PoolErrorCodes.EXHAUSTED)) throw err;
        allocMs += performance.now() - started;
        refused++;
      }
    }
    nextArrival += (-Math.log(1 - rnd()) / scenario.arrivalsPerMinute) * 60_000;
  }
  return {
    scenario: scenario.name,
    strategy,
    sessions,
    refused,
    deltaPeak,
    peakNumbersInUse: peakInUse,
    allocationsPerSecond: Math.round((sessions + refused) / (allocMs / 1000)),
  };
}
