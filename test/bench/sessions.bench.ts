/**
 * npm run bench:sessions — session create and get through the gateway (the whole system running as
 * processes on FerretDB + NATS started for the run) at concurrency 16 and 64, next to a floor
 * measured in the same run: an authenticated no-op through the gateway plus one mongoose insert
 * of a session-sized document on the same store.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import mongoose from 'mongoose';

const root = process.cwd();
const infra = require(
  path.join(root, 'deploy', 'local', 'infra.cjs'),
) as typeof import('../../deploy/local/infra.cjs');
const system = require(
  path.join(root, 'deploy', 'local', 'system.cjs'),
) as typeof import('../../deploy/local/system.cjs');
const secrets = require(
  path.join(root, 'deploy', 'local', 'dev-secrets.cjs'),
) as typeof import('../../deploy/local/dev-secrets.cjs');

const log = (line = '') => process.stdout.write(`${line}\n`);
const pct = (v: number[], p: number) =>
  [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor((p / 100) * v.length))];

interface Run {
  p50: number;
  p99: number;
  perSecond: number;
  errors: number;
}

async function load(concurrency: number, total: number, op: (i: number) => Promise<boolean>): Promise<Run> {
  const times: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        if (!(await op(i))) errors++;
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
  const store = process.env.MONGO_URL ? undefined : await infra.startStore({ log });
  const mongoUrl = process.env.MONGO_URL ?? (store as { url: string }).url;
  const nats = await infra.startNats();
  const port = await infra.freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    ...secrets.generateSecrets(),
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    NATS_URL: nats.url,
    MONGO_URL: mongoUrl,
    HTTP_PORT: String(port),
    PUBLIC_BASE_URL: baseUrl,
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
  };
  const prefix = `bench_${randomBytes(3).toString('hex')}`;
  const running = await system.startSystem({
    env,
    envFor: (s) => ({ MONGO_DB: `${prefix}_${s.replace(/-/g, '_')}` }),
    baseUrl,
    onLine: (s, line) => {
      if (/"level":"(error|fatal)"/.test(line)) process.stderr.write(`[${s}] ${line.slice(0, 300)}\n`);
    },
  });
  const conn = await mongoose
    .createConnection(mongoUrl, { dbName: `${prefix}_floor`, maxPoolSize: 64 })
    .asPromise();
  try {
    const account = (await (
      await fetch(`${baseUrl}/admin/v1/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-operator-key': env.OPERATOR_KEY },
        body: JSON.stringify({ name: 'bench' }),
      })
    ).json()) as { auth_id: string; auth_token: string };
    const auth = `Basic ${Buffer.from(`${account.auth_id}:${account.auth_token}`).toString('base64')}`;
    const api = `${baseUrl}/v1/Account/${account.auth_id}`;
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
      `whole system as processes on ${store ? 'FerretDB' : 'MONGO_URL'} + NATS started for this run; ${total} requests per cell`,
    );
    log('');
    log(
      'operation  | concurrency | p50 (ms) | p99 (ms) | per second | floor p50 / p99 (ms) | ratio p50 / p99 / throughput',
    );
    for (const concurrency of [16, 64]) {
      const floor = await load(concurrency, total, async () => {
        const res = await fetch(`${api}/`, { headers: { authorization: auth } });
        await res.arrayBuffer();
        await floorDocs.insertOne({
          _id: randomUUID() as never,
          accountId: account.auth_id,
          padding: 'x'.repeat(1200),
        });
        return res.status === 200;
      });
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
        const body = (await res.json()) as { session_uuid?: string };
        if (body.session_uuid) ids.push(body.session_uuid);
        return res.status === 201;
      });
      const get = await load(concurrency, total, async (i) => {
        const res = await fetch(`${api}/Masking/Session/${ids[i % ids.length]}/`, {
          headers: { authorization: auth },
        });
        await res.arrayBuffer();
        return res.status === 200;
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
            r.errors ? `  (${r.errors} errors)` : ''
          }`,
        );
      }
    }
  } finally {
    await conn.close();
    await running.stopAll();
    await nats.stop();
    await store?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
