import type { Scenario } from './pool-simulation';

const phone = (prefix: string, i: number) => `+1${prefix}${String(i).padStart(7 - (prefix.length - 3), '0')}`;

function pickBelow(
  count: number,
  cap: number,
  live: ReadonlyMap<string, number>,
  id: (i: number) => string,
  rnd: () => number,
) {
  for (let tries = 0; tries < 50; tries++) {
    const p = id(Math.floor(rnd() * count));
    if ((live.get(p) ?? 0) < cap) return p;
  }
  return undefined;
}

/** (a) 2,000 drivers with up to 3 concurrent rides each, 50,000 riders with one at a time, 10–40 min rides. */
export const rideHailing: Scenario = {
  name: 'ride-hailing',
  description:
    '2,000 drivers (≤3 concurrent), 50,000 riders (≤1), rides 10–40 min, Poisson arrivals, no cool-off',
  hours: 4,
  arrivalsPerMinute: 180,
  cooloffSeconds: 0,
  poolSize: 24,
  pickParties(live, rnd) {
    const driver = pickBelow(2000, 3, live, (i) => phone('212', i), rnd);
    const rider = pickBelow(50_000, 1, live, (i) => phone('415', i), rnd);
    return driver && rider ? [rider, driver] : undefined;
  },
  durationSeconds: (rnd) => 600 + rnd() * 1800,
};

/** (b) 200 sellers with up to 50 concurrent buyers each; buyers talk to up to 3 sellers at once. */
export const marketplace: Scenario = {
  name: 'marketplace',
  description: '200 sellers (≤50 concurrent buyers), 20,000 buyers (≤3 sellers at once), chats 5–30 min',
  hours: 3,
  arrivalsPerMinute: 450,
  cooloffSeconds: 0,
  poolSize: 160,
  pickParties(live, rnd) {
    const seller = pickBelow(200, 50, live, (i) => phone('646', i), rnd);
    const buyer = pickBelow(20_000, 3, live, (i) => phone('718', i), rnd);
    return seller && buyer ? [buyer, seller] : undefined;
  },
  durationSeconds: (rnd) => 300 + rnd() * 1500,
};

/**
 * (c) Churn-heavy and adversarial: a small, densely connected population (300 parties, each in up
 * to 8 sessions with anyone), very short sessions, a 30 s cool-off that keeps pairs blocked after
 * each one, and bursts. This is where an online allocator that never moves a live session pays most.
 */
export const adversarialChurn: Scenario = {
  name: 'churn-adversarial',
  description: '300 parties, any pair, ≤8 concurrent each, sessions 10 s–3 min, 30 s cool-off',
  hours: 2,
  arrivalsPerMinute: 900,
  cooloffSeconds: 30,
  poolSize: 48,
  pickParties(live, rnd) {
    const a = pickBelow(300, 8, live, (i) => phone('303', i), rnd);
    const b = pickBelow(300, 8, live, (i) => phone('303', i), rnd);
    return a && b && a !== b ? [a, b] : undefined;
  },
  durationSeconds: (rnd) => 10 + Math.pow(rnd(), 3) * 170,
};

export const SCENARIOS = [rideHailing, marketplace, adversarialChurn];
