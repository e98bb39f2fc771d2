/**
 * npm run bench:pin [-- --quick] [-- --sessions N] — PIN verification latency over NATS (pin-auth on
 * the real store) with 10,000 live PIN sessions (or N), next to a NATS echo (a bare request-reply
 * on the same server) measured in the same run, interleaved with it.
 *
 * The sessions are registered through the service first, spread over accounts and numbers the way
 * traffic spreads: a few busy numbers and a long tail (Zipf), mostly 6-digit generated PINs, some
 * 4-digit ones (a number carries at most 100 of those: past that they are 6-digit) and some
 * supplied 8-digit ones.
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { NestFactory } from '@nestjs/core';
import { connect } from 'nats';
import { PinErrorCodes, RegisterSessionPins, VerifyPin, rpcEnvelopeSchema } from '@maskline/contracts';
import { decodeJson, encodeJson } from '@maskline/messaging';
import { seededRandom } from '@maskline/service-kit';
import { pinAuthConfigSchema } from '../src/config/pin-auth.config';
import { PinAuthModule } from '../src/pin-auth.module';

const log = (line = '') => process.stdout.write(`${line}\n`);
const pct = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];

/** The bar: p99 of a verification at most this many NATS echoes. */
const TARGET_RATIO = 3;
const ACCOUNTS = ['MABENCHPIN0000000001', 'MABENCHPIN0000000002', 'MABENCHPIN0000000003'];
const NUMBERS = 300;
const REGISTRATIONS_IN_FLIGHT = 8;

/** Seeded, so every run spreads the sessions alike. */
const seeded = seededRandom;

interface Live {
  accountId: string;
  virtualNumber: string;
  sessionId: string;
  first: string;
  second: string;
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main() {
  const quick = process.argv.includes('--quick');
  const samples = quick ? 200 : 1000;
  const sessions = Number(argValue('--sessions') ?? 10_000);
  const infra = require(
    path.join(process.cwd(), 'deploy', 'local', 'infra.cjs'),
  ) as typeof import('../../../deploy/local/infra.cjs');
  const store = process.env.MONGO_URL ? undefined : await infra.startStore({ log });
  const nats = await infra.startNats();
  const config = pinAuthConfigSchema.parse({
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    NATS_URL: nats.url,
    MONGO_URL: process.env.MONGO_URL ?? store?.url,
    MONGO_DB: `bench_pin_${Date.now()}`,
    PIN_DIGEST_KEY: randomBytes(32).toString('base64'),
    PIN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  });
  const app = await NestFactory.createApplicationContext(PinAuthModule.forRoot(config), { logger: false });
  await app.init();
  const nc = await connect({ servers: nats.url });
  nc.subscribe('bench.echo', { callback: (_err, msg) => msg.respond(msg.data) });
  try {
    const request = async (subject: string, payload: unknown) => {
      const msg = await nc.request(subject, encodeJson(payload), { timeout: 30_000 });
      const envelope = rpcEnvelopeSchema.parse(decodeJson(msg.data));
      if (!envelope.ok) throw Object.assign(new Error(envelope.error.message), envelope.error);
      return envelope.data;
    };

    // Numbers with Zipf weights (the k-th busiest carries ~1/k of the traffic), each owned by one account.
    const random = seeded(20261128);
    const numbers = Array.from({ length: NUMBERS }, (_, k) => ({
      virtualNumber: `+1415${String(2_000_000 + k).padStart(7, '0')}`,
      accountId: ACCOUNTS[k % ACCOUNTS.length],
      weight: 1 / (k + 1),
    }));
    const totalWeight = numbers.reduce((sum, n) => sum + n.weight, 0);
    const pickNumber = () => {
      let r = random() * totalWeight;
      for (const n of numbers) if ((r -= n.weight) <= 0) return n;
      return numbers[numbers.length - 1];
    };
    const plan = Array.from({ length: sessions }, () => {
      const n = pickNumber();
      const kind = random();
      const pins =
        kind < 0.1
          ? { mode: 'generated' as const, length: 4 }
          : kind < 0.2
            ? {
                mode: 'supplied' as const,
                first: String(Math.floor(random() * 1e8)).padStart(8, '0'),
                second: String(Math.floor(random() * 1e8)).padStart(8, '0'),
              }
            : { mode: 'generated' as const, length: 6 };
      return { ...n, pins };
    });

    const live: Live[] = [];
    const started = performance.now();
    let next = 0;
    let refused = 0;
    let reported = 0;
    const registerOne = async (p: (typeof plan)[number]) => {
      const sessionId = randomUUID();
      const send = (pins: typeof p.pins) =>
        request(RegisterSessionPins.subject, {
          scope: { accountId: p.accountId },
          sessionId,
          virtualNumber: p.virtualNumber,
          pins,
        }) as Promise<{ first: string; second: string }>;
      let r: { first: string; second: string };
      try {
        r = await send(p.pins);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== PinErrorCodes.CAPACITY && code !== PinErrorCodes.CONFLICT) throw err;
        // A full 4-digit number or a clashing supplied PIN: a 6-digit one, as a customer would.
        refused++;
        r = await send({ mode: 'generated', length: 6 });
      }
      live.push({ accountId: p.accountId, virtualNumber: p.virtualNumber, sessionId, ...r });
    };
    await Promise.all(
      Array.from({ length: REGISTRATIONS_IN_FLIGHT }, async () => {
        while (next < plan.length) {
          await registerOne(plan[next++]);
          if (live.length >= reported + 1000) {
            reported = live.length - (live.length % 1000);
            log(`  ${reported} sessions registered (${((performance.now() - started) / 1000).toFixed(1)} s)`);
          }
        }
      }),
    );
    const registerSeconds = (performance.now() - started) / 1000;
    const busiest = numbers[0].virtualNumber;
    log(
      `pin-auth: ${live.length} live PIN sessions (${live.length * 2} PINs) on ${new Set(live.map((l) => l.virtualNumber)).size} numbers of ${ACCOUNTS.length} accounts ` +
        `(busiest ${live.filter((l) => l.virtualNumber === busiest).length}; ${refused} asked again as 6-digit), ` +
        `registered in ${registerSeconds.toFixed(1)} s (${(live.length / registerSeconds).toFixed(0)}/s, ${REGISTRATIONS_IN_FLIGHT} in flight); ` +
        `${config.MONGO_URL?.startsWith('mongodb://127.0.0.1') ? 'FerretDB' : 'MONGO_URL'} + NATS started for this run`,
    );

    const matchTimes: number[] = [];
    const mismatchTimes: number[] = [];
    const echoTimes: number[] = [];
    const echoPayload = encodeJson({
      accountId: ACCOUNTS[0],
      virtualNumber: busiest,
      digits: '123456',
      callId: randomUUID(),
    });
    const verify = (l: Live, digits: string, caller: number, registered: boolean) =>
      request(VerifyPin.subject, {
        accountId: l.accountId,
        virtualNumber: l.virtualNumber,
        digits,
        // A caller of its own per mismatch: no caller bar is reached, every sample is a real check.
        callerNumber: `+1646${String(5_000_000 + caller).padStart(7, '0')}`,
        callerRegistered: registered,
        callId: randomUUID(),
        attempt: 1,
        maxAttempts: 2,
      }) as Promise<{ outcome: string }>;
    for (let i = 0; i < samples; i++) {
      const l = live[Math.floor(random() * live.length)];
      const t0 = performance.now();
      await nc.request('bench.echo', echoPayload, { timeout: 10_000 });
      echoTimes.push(performance.now() - t0);

      const t1 = performance.now();
      const match = await verify(l, i % 2 === 0 ? l.first : l.second, i, true);
      matchTimes.push(performance.now() - t1);
      if (match.outcome !== 'match') throw new Error(`a live PIN did not match: ${match.outcome}`);

      // Wrong digits of the right length (almost surely no PIN), from a caller in the session.
      const wrong = String(
        (Number(l.first) + 1 + Math.floor(random() * 1000)) % 10 ** l.first.length,
      ).padStart(l.first.length, '0');
      const t2 = performance.now();
      await verify(l, wrong, samples + i, true);
      mismatchTimes.push(performance.now() - t2);
    }
    const row = (name: string, values: number[]) => {
      const p50 = pct(values, 50);
      const p99 = pct(values, 99);
      const e50 = pct(echoTimes, 50);
      const e99 = pct(echoTimes, 99);
      return `${name.padEnd(32)} ${p50.toFixed(2).padStart(8)}   ${p99.toFixed(2).padStart(8)}   ${(p50 / e50).toFixed(1).padStart(7)}×   ${(p99 / e99).toFixed(1).padStart(7)}×   ${p99 / e99 <= TARGET_RATIO ? 'meets' : 'MISSES'} ${TARGET_RATIO}×`;
    };
    log('');
    log(
      `${samples} sequential requests each      p50 (ms)   p99 (ms)   p50÷echo   p99÷echo   target p99 ≤ ${TARGET_RATIO}× echo`,
    );
    log(row('verify (match) over NATS', matchTimes));
    log(row('verify (mismatch) over NATS', mismatchTimes));
    log(
      `${'NATS echo (floor)'.padEnd(32)} ${pct(echoTimes, 50).toFixed(2).padStart(8)}   ${pct(echoTimes, 99).toFixed(2).padStart(8)}`,
    );
  } finally {
    await nc.close();
    await app.close();
    await nats.stop();
    await store?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
