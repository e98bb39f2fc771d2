/**
 * npm run bench:messages — message relay latency: the time from a signed inbound message webhook
 * reaching the gateway to the provider's REST API receiving the send to the other party, at a
 * steady rate (100 messages a second by default), p50 and p99, next to a floor measured in the same
 * run: the same signed webhook answered by an HTTP server that asks a NATS echo. Then the same load
 * with a second provider account sending as much whose API never answers: the healthy account's
 * p99 with it ÷ without it (target ≤ 1.2). A control run with a second account sending as much
 * whose API answers separates the cost of the extra load (this machine's two cores serve both)
 * from the cost of the failing API, and a run with a failing account sending a tenth as much shows
 * the hang's cost without the doubled load. Each run also prints the CPU each process spent per inbound
 * message, and the table the p99 of the webhook's own answer (the message taken into the stream):
 * what of the relay's time is taking the message, and what is relaying it.
 *
 *   --rate N       messages a second (default 100)   --seconds S   length of each run (default 20)
 *   --quick        --seconds 6
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type NatsConnection } from 'nats';
import { TelephonySimulator } from '@maskline/telephony-simulator';
import { log, pct, providerSandbox, startBenchSystem } from './support/bench-system';
import { cpuMsByName, cpuPerOperation } from './support/process-cpu';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

interface Tenant {
  provider: { accountId: string; authToken: string };
  sim: TelephonySimulator;
  /** One live session per number: [virtual number, first party, second party]. */
  sessions: Array<[string, string, string]>;
}

/** The width of the windows the healthy account's p99 is shown by. */
const WINDOW_S = 2;

async function main() {
  const rate = arg('rate', 100);
  const seconds = process.argv.includes('--quick') ? 6 : arg('seconds', 20);
  const arrivals = new Map<string, number>();
  const sandbox = await providerSandbox.startProviderSandbox({
    onMessage: (m) => arrivals.set(m.text, performance.now()),
  });
  const bench = await startBenchSystem({
    env: { PLIVO_API_BASE_URL: sandbox.url, TWILIO_API_BASE_URL: sandbox.url },
    serviceEnv: (s): Record<string, string> =>
      s === 'call-router'
        ? { OUTBOUND_TIMEOUT_MS: '2000', LOG_LEVEL: process.env.BENCH_CALL_ROUTER_LOG_LEVEL ?? 'warn' }
        : {},
  });
  const nc: NatsConnection = await connect({ servers: bench.nats.url });
  const floorServer = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      void nc.request('bench.echo', new Uint8Array(8), { timeout: 2000 }).then(
        () => res.writeHead(200).end(),
        () => res.writeHead(503).end(),
      );
    });
  });
  try {
    nc.subscribe('bench.echo', { callback: (_err, msg) => msg.respond(msg.data) });
    await new Promise<void>((r) => floorServer.listen(0, '127.0.0.1', r));
    const floorUrl = `http://127.0.0.1:${(floorServer.address() as AddressInfo).port}`;

    /** A tenant with its own Plivo account, five numbers (`numberBase` + 0–4) and a session on each. */
    const tenant = async (name: string, numberBase: string, partyBase: string): Promise<Tenant> => {
      const { auth, api } = await bench.account(name);
      const provider = {
        accountId: `MA${randomBytes(9).toString('hex').toUpperCase()}`,
        authToken: randomBytes(20).toString('hex'),
      };
      const numbers = Array.from({ length: 5 }, (_, i) => `${numberBase}${i}`);
      const added = await fetch(`${api}/Number/`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          numbers: numbers.join(','),
          provider: 'plivo',
          provider_auth_id: provider.accountId,
          provider_auth_token: provider.authToken,
        }),
      });
      if (added.status !== 202) throw new Error(`adding numbers: HTTP ${added.status}`);
      const sessions: Tenant['sessions'] = [];
      for (let i = 0; i < numbers.length; i++) {
        const [first, second] = [`${partyBase}${1000 + 2 * i}`, `${partyBase}${1001 + 2 * i}`];
        const res = await fetch(`${api}/Masking/Session/`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: JSON.stringify({ first_party: first, second_party: second, message_masking: true }),
        });
        const body = (await res.json()) as { session: { virtual_number: string } };
        if (res.status !== 201) throw new Error(`creating a session: HTTP ${res.status}`);
        sessions.push([`+${body.session.virtual_number}`, first, second]);
      }
      return { provider, sim: new TelephonySimulator(bench.baseUrl, 'plivo', provider), sessions };
    };
    const healthy = await tenant('bench-healthy', '+1415555070', '+1628557');
    const broken = await tenant('bench-broken', '+1646555070', '+1628558');
    const other = await tenant('bench-other', '+1212555070', '+1628559');
    const brokenLight = await tenant('bench-broken-light', '+1718555070', '+1628556');
    sandbox.hangAccount(broken.provider.accountId);
    sandbox.hangAccount(brokenLight.provider.accountId);

    /**
     * Sends `rate` messages a second for `seconds` from the first tenant, and from each other one
     * every `every`-th of those ticks (1: as much); the first one's relay latencies.
     */
    const run = async (label: string, tenants: Tenant[], every = 1) => {
      const cpuBefore = cpuMsByName([...bench.pids(), { name: 'bench', pid: process.pid }]);
      const started = new Map<string, number>();
      const answered: number[] = [];
      const total = rate * seconds;
      let sentInAll = 0;
      const t0 = performance.now();
      const inFlight: Array<Promise<unknown>> = [];
      for (let i = 0; i < total; i++) {
        const due = t0 + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        for (const [k, t] of tenants.entries()) {
          if (k > 0 && i % every !== 0) continue;
          sentInAll++;
          const [vn, first] = t.sessions[i % t.sessions.length];
          const text = `${label} ${k} ${i} ${randomBytes(4).toString('hex')}`;
          const at = performance.now();
          if (k === 0) started.set(text, at);
          const sent = t.sim.text({ from: first, to: vn, text });
          inFlight.push(k === 0 ? sent.then(() => answered.push(performance.now() - at)) : sent);
        }
      }
      await Promise.all(inFlight);
      const deadline = performance.now() + 30_000;
      while ([...started.keys()].some((t) => !arrivals.has(t)) && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const latencies = [...started].flatMap(([t, at]) => (arrivals.has(t) ? [arrivals.get(t)! - at] : []));
      // The healthy account's p99 by window of the run: a cost at the start (a breaker tripping) or throughout.
      const windows = Array.from({ length: Math.ceil(seconds / WINDOW_S) }, () => [] as number[]);
      for (const [t, at] of started) {
        if (arrivals.has(t)) windows[Math.floor((at - t0) / 1000 / WINDOW_S)]?.push(arrivals.get(t)! - at);
      }
      const cpu = cpuPerOperation(
        cpuBefore,
        cpuMsByName([...bench.pids(), { name: 'bench', pid: process.pid }]),
        sentInAll,
      );
      log(`${label}: CPU per inbound message ${cpu}`);
      log(
        `${label}: p99 ms by ${WINDOW_S} s window: ${windows.map((w) => (w.length ? pct(w, 99).toFixed(0) : '-')).join(' ')}`,
      );
      return { latencies, answered, missing: started.size - latencies.length };
    };

    /** The floor: the same signed webhook, answered by an HTTP server that asks a NATS echo. */
    const floor = async () => {
      const latencies: number[] = [];
      const [vn, first] = healthy.sessions[0];
      const t0 = performance.now();
      const inFlight: Array<Promise<void>> = [];
      for (let i = 0; i < rate * seconds; i++) {
        const wait = t0 + (i * 1000) / rate - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const floorSim = new TelephonySimulator(floorUrl, 'plivo', healthy.provider);
        const at = performance.now();
        inFlight.push(
          floorSim.text({ from: first, to: vn, text: `floor ${i}` }).then(() => {
            latencies.push(performance.now() - at);
          }),
        );
      }
      await Promise.all(inFlight);
      return latencies;
    };

    log(`bench:messages — ${rate} messages/s for ${seconds} s per run, Plivo dialect, 5 sessions per tenant`);
    // Warm-up: connections, caches, the routing index.
    await run('warm', [healthy]);
    const floorMs = await floor();
    const alone = await run('alone', [healthy]);
    const withOther = await run('with-other', [healthy, other]);
    // A failing account (another) at a tenth of the load: what the hang costs when the two cores are
    // not also serving a doubled load. Before the full one, whose retries go on for a minute.
    const withBrokenTenth = await run('with-broken-tenth', [healthy, brokenLight], 10);
    const withBroken = await run('with-broken', [healthy, broken]);
    // The webhook's own answer (the gateway has the message in the stream): what of the relay's
    // time is taking the message, and what is relaying it.
    const row = (name: string, v: number[], base: number[], answered = v) =>
      log(
        `| ${name} | ${v.length} | ${pct(v, 50).toFixed(1)} | ${pct(v, 99).toFixed(1)} | ${(pct(v, 50) / pct(base, 50)).toFixed(1)} | ${(pct(v, 99) / pct(base, 99)).toFixed(1)} | ${pct(answered, 99).toFixed(1)} |`,
      );
    log();
    log('| run | messages | p50 ms | p99 ms | p50 ÷ floor | p99 ÷ floor | webhook answered p99 ms |');
    log('| --- | --- | --- | --- | --- | --- | --- |');
    row('floor: signed webhook → HTTP server → NATS echo', floorMs, floorMs);
    row('webhook → provider receives the send', alone.latencies, floorMs, alone.answered);
    row(
      'the same, with another account sending as much (its API answering)',
      withOther.latencies,
      floorMs,
      withOther.answered,
    );
    row(
      'the same, with another account sending as much (its API never answering)',
      withBroken.latencies,
      floorMs,
      withBroken.answered,
    );
    row(
      'the same, with another account sending a tenth as much (its API never answering)',
      withBrokenTenth.latencies,
      floorMs,
      withBrokenTenth.answered,
    );
    log();
    const ratio = pct(withBroken.latencies, 99) / pct(alone.latencies, 99);
    const isolation = pct(withBroken.latencies, 99) / pct(withOther.latencies, 99);
    log(
      `healthy p99 with a never-answering account ÷ without: ${ratio.toFixed(2)} (target ≤ 1.2); ` +
        `÷ with an answering account at the same load: ${isolation.toFixed(2)}; ` +
        `not relayed within 30 s: ${alone.missing} / ${withOther.missing} / ${withBroken.missing} / ${withBrokenTenth.missing}`,
    );
    log(
      `healthy p99 with a never-answering account sending a tenth as much ÷ without: ` +
        `${(pct(withBrokenTenth.latencies, 99) / pct(alone.latencies, 99)).toFixed(2)}`,
    );
  } finally {
    floorServer.close();
    await nc.close();
    await bench.stop();
    await sandbox.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
