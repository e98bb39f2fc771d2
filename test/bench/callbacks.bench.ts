/**
 * npm run bench:callbacks — callback deliveries per second to local receivers and event-to-delivery
 * latency, first with nine healthy receivers, then with the same nine plus one that always times
 * out; prints the healthy receivers' p99 in both runs and the ratio (target ≤ 1.2). Then the full
 * crash test: 10,000 events, kill -9 of the dispatcher a third of the way through, restart, and a
 * count of what arrived (none may be missing).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type NatsConnection } from 'nats';
import { callbackEventIdOf } from '@maskline/contracts';
import { log, pct, startBenchSystem } from './support/bench-system';

const SUBJECT = 'events.call.progressed.v1';

interface Receiver {
  url: string;
  arrivals: Map<string, number>;
  server: Server;
}

async function receiver(hangs: boolean): Promise<Receiver> {
  const arrivals = new Map<string, number>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['x-maskline-event-id']);
      if (!arrivals.has(id)) arrivals.set(id, performance.now());
      if (hangs) return; // never answers: every attempt times out
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cb`, arrivals, server };
}

async function main() {
  const quick = process.argv.includes('--quick');
  const perRun = quick ? 450 : 2700;
  const burst = quick ? 2000 : 10_000;
  const bench = await startBenchSystem({
    env: { CALLBACK_HOST_ALLOWLIST: '127.0.0.1' },
    serviceEnv: (s): Record<string, string> =>
      s === 'callback-dispatcher'
        ? {
            CALLBACK_TIMEOUT_MS: '2000',
            CALLBACK_CONNECT_TIMEOUT_MS: '500',
            CALLBACK_RETRY_SCHEDULE_SECONDS: '5,10,20',
          }
        : {},
    onLine: () => undefined,
  });
  const { running, nats } = bench;
  const processes = new Map(running.processes.map((p) => [p.service as string, p]));
  const nc: NatsConnection = await connect({ servers: nats.url });
  const receivers: Receiver[] = [];
  try {
    const { authId, auth, api } = await bench.account();
    await fetch(`${api}/Number/`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ numbers: '+14155550100' }),
    });
    const sessionFor = async (url: string, i: number) => {
      const res = await fetch(`${api}/Masking/Session/`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          first_party: `+1646555${String(1000 + 2 * i)}`,
          second_party: `+1646555${String(1001 + 2 * i)}`,
          callback_url: url,
        }),
      });
      return ((await res.json()) as { session_uuid: string }).session_uuid;
    };
    for (let i = 0; i < 10; i++) receivers.push(await receiver(i === 9));
    const sessions = await Promise.all(receivers.map((r, i) => sessionFor(r.url, i)));
    const js = nc.jetstream();
    let n = 0;
    const publish = async (sessionId: string) => {
      const i = n++;
      const ack = await js.publish(
        SUBJECT,
        new TextEncoder().encode(
          JSON.stringify({
            accountId: authId,
            sessionId,
            callId: `b${i}`,
            step: 'first-party-answered',
            at: new Date().toISOString(),
          }),
        ),
        { msgID: `bench:${i}` },
      );
      return {
        id: callbackEventIdOf({ msgId: `bench:${i}`, streamSequence: ack.seq }),
        at: performance.now(),
      };
    };

    /** Publishes `count` events over the targets, `perSecond` at a time (0: as fast as possible). */
    const run = async (targets: number[], count: number, perSecond: number) => {
      const published: Array<{ id: string; at: number; receiver: number }> = [];
      const started = performance.now();
      for (let i = 0; i < count; i++) {
        if (perSecond > 0) {
          const due = started + (i * 1000) / perSecond;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        const r = targets[i % targets.length];
        published.push({ ...(await publish(sessions[r])), receiver: r });
      }
      const healthy = published.filter((p) => p.receiver !== 9);
      const deadline = Date.now() + 180_000;
      while (healthy.some((p) => !receivers[p.receiver].arrivals.has(p.id)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const latencies = healthy
        .map((p) => (receivers[p.receiver].arrivals.get(p.id) ?? Number.NaN) - p.at)
        .filter((v) => !Number.isNaN(v));
      const end = Math.max(...healthy.map((p) => receivers[p.receiver].arrivals.get(p.id) ?? 0));
      return {
        p50: pct(latencies, 50),
        p99: pct(latencies, 99),
        perSecond: (healthy.length / (end - started)) * 1000,
        missing: healthy.length - latencies.length,
      };
    };

    const healthy9 = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const paced = quick ? 10 : 30;
    const rate = 40;
    log(`whole system as processes on ${bench.store ? 'FerretDB' : 'MONGO_URL'} + NATS`);
    const burstRun = await run(healthy9, perRun, 0);
    log('');
    log(
      `throughput: ${perRun} events published at once to nine healthy receivers: ${burstRun.perSecond.toFixed(0)} deliveries/s`,
    );
    await run(healthy9, 5 * rate, rate); // warm-up: caches, breakers, connections
    const healthyOnly = await run(healthy9, paced * rate, rate);
    const withBad = await run(
      [...healthy9, 9],
      Math.round((paced * rate * 10) / 9),
      Math.round((rate * 10) / 9),
    );
    log('');
    log(
      `latency at a steady ${rate} events/s to the healthy receivers (${paced} s each run), event stored → callback received:`,
    );
    log('run                              | healthy p50 (ms) | healthy p99 (ms)');
    log(
      `nine healthy receivers           | ${healthyOnly.p50.toFixed(1).padStart(16)} | ${healthyOnly.p99.toFixed(1).padStart(16)}`,
    );
    log(
      `nine healthy + one timing out    | ${withBad.p50.toFixed(1).padStart(16)} | ${withBad.p99.toFixed(1).padStart(16)}`,
    );
    const undelivered = burstRun.missing + healthyOnly.missing + withBad.missing;
    log(
      `healthy p99 ratio (with ÷ without): ${(withBad.p99 / healthyOnly.p99).toFixed(2)} (target ≤ 1.2)` +
        (undelivered ? `; ${undelivered} not delivered in time` : ''),
    );

    // The full crash test.
    const crash = receivers[0];
    crash.arrivals.clear();
    const ids: string[] = [];
    for (let i = 0; i < burst; i++) ids.push((await publish(sessions[0])).id);
    while (crash.arrivals.size < burst / 3) await new Promise((r) => setTimeout(r, 50));
    const dispatcher = processes.get('callback-dispatcher');
    await dispatcher?.stop('SIGKILL');
    const atKill = crash.arrivals.size;
    const restarted = bench.startService('callback-dispatcher');
    processes.set('callback-dispatcher', restarted);
    const t0 = Date.now();
    while (ids.some((id) => !crash.arrivals.has(id)) && Date.now() - t0 < 300_000)
      await new Promise((r) => setTimeout(r, 200));
    const missing = ids.filter((id) => !crash.arrivals.has(id)).length;
    log('');
    log(
      `crash test: ${burst} events, kill -9 after ${atKill} delivered, restart: ${burst - missing} delivered, ${missing} missing, in ${((Date.now() - t0) / 1000).toFixed(0)} s after the restart`,
    );
  } finally {
    await nc.close();
    for (const r of receivers) {
      r.server.closeAllConnections();
      r.server.close();
    }
    await Promise.all([...processes.values()].map((p) => p.stop('SIGTERM')));
    await bench.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
