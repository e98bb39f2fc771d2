/**
 * npm run bench:sessions — session create and get through the gateway (the whole system running as
 * processes on FerretDB + NATS started for the run) at concurrency 16 and 64, next to a floor
 * measured in the same run: an authenticated no-op through the gateway plus one mongoose insert
 * of a session-sized document on the same store.
 */
import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { log, pct, startBenchSystem } from './support/bench-system';
import { cpuMsByName, cpuPerOperation } from './support/process-cpu';

interface Run {
  p50: number;
  p99: number;
  perSecond: number;
  /** The answers other than the one expected, by status and message. */
  errors: Map<string, number>;
}

/** true for the status expected; else the status and the start of the API's error message. */
async function outcomeOf(res: Response, expected: number): Promise<true | string> {
  const text = await res.text();
  if (res.status === expected) return true;
  let message = '';
  try {
    message = String((JSON.parse(text) as { error?: unknown }).error ?? '');
  } catch {
    message = text;
  }
  return `${res.status} ${message.slice(0, 70)}`;
}

async function load(
  concurrency: number,
  total: number,
  op: (i: number) => Promise<true | string>,
): Promise<Run> {
  const times: number[] = [];
  let next = 0;
  const errors = new Map<string, number>();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        const outcome = await op(i);
        if (outcome !== true) errors.set(outcome, (errors.get(outcome) ?? 0) + 1);
        times.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { p50: pct(times, 50), p99: pct(times, 99), perSecond: total / seconds, errors };
}

async function main() {
  const quick = process.argv.includes('--quick');
  const total = quick ? 128 : 640;
  const bench = await startBenchSystem();
  const { mongoUrl, prefix } = bench;
  const conn = await mongoose
    .createConnection(mongoUrl, { dbName: `${prefix}_floor`, maxPoolSize: 64 })
    .asPromise();
  try {
    const { authId, auth, api } = await bench.account();
    await fetch(`${api}/Number/`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        numbers: Array.from({ length: 10 }, (_, i) => `+1415555${String(100 + i).padStart(4, '0')}`),
      }),
    });
    const floorDocs = conn.collection('sessions_floor');
    let party = 0;
    const ids: string[] = [];
    log(
      `whole system as processes on ${bench.store ? 'FerretDB' : 'MONGO_URL'} + NATS started for this run; ${total} requests per cell`,
    );
    log('');
    log(
      'operation  | concurrency | p50 (ms) | p99 (ms) | per second | floor p50 / p99 (ms) | ratio p50 / p99 / throughput',
    );
    const cpuPerCreate: string[] = [];
    for (const concurrency of [16, 64]) {
      const floor = await load(concurrency, total, async () => {
        const res = await fetch(`${api}/`, { headers: { authorization: auth } });
        const outcome = await outcomeOf(res, 200);
        await floorDocs.insertOne({
          _id: randomUUID() as never,
          accountId: authId,
          padding: 'x'.repeat(1200),
        });
        return outcome;
      });
      const cpuBefore = cpuMsByName(bench.pids());
      const create = await load(concurrency, total, async () => {
        const n = party++;
        const res = await fetch(`${api}/Masking/Session/`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: JSON.stringify({
            first_party: `+1646${String(5550000 + 2 * n)}`,
            second_party: `+1718${String(5550000 + 2 * n)}`,
          }),
        });
        const outcome = await outcomeOf(res.clone(), 201);
        const body = (await res.json().catch(() => ({}))) as { session_uuid?: string };
        if (body.session_uuid) ids.push(body.session_uuid);
        return outcome;
      });
      cpuPerCreate.push(`c${concurrency}: ${cpuPerOperation(cpuBefore, cpuMsByName(bench.pids()), total)}`);
      const get = await load(concurrency, total, async (i) => {
        const res = await fetch(`${api}/Masking/Session/${ids[i % ids.length]}/`, {
          headers: { authorization: auth },
        });
        return outcomeOf(res, 200);
      });
      for (const [name, r] of [
        ['create', create],
        ['get', get],
      ] as const) {
        log(
          `${name.padEnd(10)} | ${String(concurrency).padStart(11)} | ${r.p50.toFixed(1).padStart(8)} | ${r.p99
            .toFixed(1)
            .padStart(
              8,
            )} | ${r.perSecond.toFixed(0).padStart(10)} | ${`${floor.p50.toFixed(1)} / ${floor.p99.toFixed(1)}`.padStart(
            20,
          )} | ${(r.p50 / floor.p50).toFixed(1)} / ${(r.p99 / floor.p99).toFixed(1)} / ${(r.perSecond / floor.perSecond).toFixed(2)}${
            r.errors.size > 0 ? `  (${[...r.errors.values()].reduce((a, b) => a + b)} errors)` : ''
          }`,
        );
        for (const [what, count] of r.errors) log(`             ${count} × ${what}`);
      }
    }
    log('');
    log('CPU per create, by process (the floor of throughput on this machine is cores ÷ the total)');
    for (const line of cpuPerCreate) log(`  ${line}`);
  } finally {
    await conn.close();
    await bench.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
