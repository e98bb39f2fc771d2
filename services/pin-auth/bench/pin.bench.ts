/**
 * npm run bench:pin — PIN verification latency over NATS (pin-auth on the real store), next to a
 * NATS echo (a bare request-reply on the same server) measured in the same run.
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { NestFactory } from '@nestjs/core';
import { connect } from 'nats';
import { RegisterSessionPins, VerifyPin, rpcEnvelopeSchema } from '@maskline/contracts';
import { decodeJson, encodeJson } from '@maskline/messaging';
import { pinAuthConfigSchema } from '../src/config/pin-auth.config';
import { PinAuthModule } from '../src/pin-auth.module';

const log = (line = '') => process.stdout.write(`${line}\n`);
const pct = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];

async function main() {
  const samples = process.argv.includes('--quick') ? 200 : 1000;
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
      const msg = await nc.request(subject, encodeJson(payload), { timeout: 10_000 });
      const envelope = rpcEnvelopeSchema.parse(decodeJson(msg.data));
      if (!envelope.ok) throw new Error(envelope.error.message);
      return envelope.data;
    };
    const virtualNumber = '+14155550199';
    const pins: string[] = [];
    for (let i = 0; i < 100; i++) {
      const r = (await request(RegisterSessionPins.subject, {
        scope: { accountId: 'MABENCHPIN0000000001' },
        sessionId: randomUUID(),
        virtualNumber,
        pins: { mode: 'generated', length: 6 },
      })) as { first: string; second: string };
      pins.push(r.first, r.second);
    }
    log(
      `pin-auth: 100 live PIN sessions on one number, ${config.MONGO_URL?.startsWith('mongodb://127.0.0.1') ? 'FerretDB' : 'MONGO_URL'} + NATS started for this run`,
    );

    const verifyTimes: number[] = [];
    const echoTimes: number[] = [];
    const echoPayload = encodeJson({
      accountId: 'MABENCHPIN0000000001',
      virtualNumber,
      digits: '123456',
      callId: randomUUID(),
    });
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      await nc.request('bench.echo', echoPayload, { timeout: 10_000 });
      echoTimes.push(performance.now() - t0);
      const t1 = performance.now();
      await request(VerifyPin.subject, {
        accountId: 'MABENCHPIN0000000001',
        virtualNumber,
        digits: pins[i % pins.length],
        callerNumber: `+1646555${String(i % 10000).padStart(4, '0')}`,
        callerRegistered: true,
        callId: randomUUID(),
        attempt: 1,
        maxAttempts: 2,
      });
      verifyTimes.push(performance.now() - t1);
    }
    const v50 = pct(verifyTimes, 50);
    const v99 = pct(verifyTimes, 99);
    const e50 = pct(echoTimes, 50);
    const e99 = pct(echoTimes, 99);
    log('');
    log(`${samples} sequential requests each     p50 (ms)   p99 (ms)`);
    log(`verify (match) over NATS         ${v50.toFixed(2).padStart(8)}   ${v99.toFixed(2).padStart(8)}`);
    log(`NATS echo (floor)                ${e50.toFixed(2).padStart(8)}   ${e99.toFixed(2).padStart(8)}`);
    log(
      `ratio verify ÷ echo              ${(v50 / e50).toFixed(1).padStart(8)}   ${(v99 / e99).toFixed(1).padStart(8)}`,
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
