/**
 * npm run bench:pool — how many virtual numbers the allocator needs, and what one allocation costs.
 *
 * Part 1 runs three traffic models through the real allocator (its in-memory store port, a
 * simulated clock) with first-fit (ours) and a random-choice allocator, against Δ, the floor any
 * allocator must pay, and Plivo's sizing rule 2Δ − 1.
 * Part 2 measures allocation latency on the real store (FerretDB started here, or MONGO_URL)
 * at 10,000 and at 200,000 live sessions, next to one insert into the same collection (what a claim must do).
 */
import * as path from 'node:path';
import { SCENARIOS } from './pool-scenarios';
import { simulate } from './pool-simulation';
import { measureStoreLatency } from './pool-store-latency';

const log = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n: number, d = 2) => n.toFixed(d);

async function main() {
  const quick = process.argv.includes('--quick');
  if (!process.argv.includes('--store-only')) await numbersNeeded(quick);
  await storeLatency(quick);
}

async function numbersNeeded(quick: boolean) {
  log('Part 1 — numbers needed (simulated traffic through the real allocator, in-memory store port)');
  log('');
  log(
    'scenario            | allocator | sessions | Δ peak | numbers in use (peak) | ratio to Δ | Plivo 2Δ−1 | allocations/s',
  );
  log(
    '--------------------|-----------|----------|--------|-----------------------|------------|------------|--------------',
  );
  for (const scenario of SCENARIOS) {
    const s = quick ? { ...scenario, hours: scenario.hours / 8 } : scenario;
    for (const strategy of ['first-fit', 'random'] as const) {
      const r = await simulate(s, strategy);
      log(
        `${r.scenario.padEnd(20)}| ${strategy.padEnd(10)}| ${String(r.sessions).padStart(8)} | ${String(r.deltaPeak).padStart(6)} | ${String(
          r.peakNumbersInUse,
        ).padStart(21)} | ${fmt(r.peakNumbersInUse / r.deltaPeak).padStart(10)} | ${String(
          2 * r.deltaPeak - 1,
        ).padStart(
          10,
        )} | ${String(r.allocationsPerSecond).padStart(12)}${r.refused > 0 ? `  (${r.refused} refused)` : ''}`,
      );
    }
    log(`  ${s.description}; pool of ${s.poolSize} numbers`);
  }
}

async function storeLatency(quick: boolean) {
  log('');
  log('Part 2 — allocation latency vs live sessions on the real store');
  const infra = require(
    path.join(process.cwd(), 'deploy', 'local', 'infra.cjs'),
  ) as typeof import('../../../deploy/local/infra.cjs');
  const given = process.env.MONGO_URL;
  const store = given ? undefined : await infra.startStore({ log });
  const url = given ?? (store as { url: string }).url;
  const nats = await infra.startNats();
  log(
    `  store: ${given ? 'MONGO_URL' : `${store?.kind} started for this run`}; NATS (KV hints) started for this run`,
  );
  try {
    const sizes = quick ? [2_000, 20_000] : [10_000, 200_000];
    const rows = await measureStoreLatency(url, nats.url, sizes, quick ? 60 : 300, log);
    log('');
    log(
      'live sessions | allocation p50 / p99 (ms) | floor: one insert p50 / p99 (ms) | alloc p50 ÷ floor p50',
    );
    for (const r of rows) {
      log(
        `${r.liveSessions.toLocaleString('en').padStart(13)} | ${fmt(r.allocP50).padStart(11)} / ${fmt(r.allocP99).padEnd(11)} | ${fmt(
          r.floorP50,
        ).padStart(15)} / ${fmt(r.floorP99).padEnd(15)} | ${fmt(r.allocP50 / r.floorP50)}`,
      );
    }
    const [small, large] = rows;
    log('');
    log(
      `scale ratio (${large.liveSessions.toLocaleString('en')} ÷ ${small.liveSessions.toLocaleString('en')} live sessions): ` +
        `p50 ${fmt(large.allocP50 / small.allocP50)}, p99 ${fmt(large.allocP99 / small.allocP99)} (target ≤ 1.3); ` +
        `floor ratio p50 ${fmt(large.floorP50 / small.floorP50)}`,
    );
  } finally {
    await store?.stop();
    await nats.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
