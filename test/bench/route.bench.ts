/**
 * npm run bench:route — the answer webhook (a party of a live session calls its virtual number;
 * Maskline answers with Plivo XML that plays and dials) at a sustained 200 calls/s, open loop,
 * next to a floor measured in the same run: the same signed HTTP request through the same gateway,
 * answered by a NATS echo in place of the call router (a separate process that replies at once
 * with a decision of the same size). Then the highest rate the route holds with p99 under 50 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { RouteCall } from '@maskline/contracts';
import { plivoV3Signature } from '@maskline/webhook-signatures';
import { log, pct, startBenchSystem, type ServiceProcess } from './support/bench-system';

const root = process.cwd();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  p50: number;
  p99: number;
  achieved: number;
  errors: number;
}

const PROVIDER = {
  authId: `MA${randomBytes(9).toString('hex').toUpperCase()}`,
  token: randomBytes(20).toString('hex'),
};
const NUMBERS = Array.from({ length: 10 }, (_, i) => `+1415555${String(200 + i).padStart(4, '0')}`);

/**
 * A POST over kept-alive connections with node:http: the load generator shares the machine with
 * the system it measures, and fetch cost it about twice the CPU per request.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
function post(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Open loop: request i leaves at start + i/rate whatever happened to the earlier ones. */
async function drive(rate: number, seconds: number, request: (i: number) => Promise<boolean>): Promise<Run> {
  const total = Math.round(rate * seconds);
  const times: number[] = [];
  let errors = 0;
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    inFlight.push(
      (async () => {
        const t0 = performance.now();
        const ok = await request(i).catch(() => false);
        times.push(performance.now() - t0);
        if (!ok) errors++;
      })(),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  return { p50: pct(times, 50), p99: pct(times, 99), achieved: total / elapsed, errors };
}

/** CPU seconds a process has used so far (Linux /proc), or 0 where unavailable. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Closed loop, one at a time: the service time with nothing queued. */
async function oneByOne(count: number, request: (i: number) => Promise<boolean>): Promise<Run> {
  const times: number[] = [];
  let errors = 0;
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    if (!(await request(i).catch(() => false))) errors++;
    times.push(performance.now() - t0);
  }
  return {
    p50: pct(times, 50),
    p99: pct(times, 99),
    achieved: count / ((performance.now() - start) / 1000),
    errors,
  };
}

/** A NATS echo on the router's subject and queue group, in its own process. */
function startEcho(natsUrl: string): ChildProcess {
  const reply = JSON.stringify({
    ok: true,
    data: {
      actions: [
        { type: 'play', url: 'http://127.0.0.1:9/media/hello.mp3' },
        {
          type: 'dial',
          number: '+16285550000',
          callerId: NUMBERS[0],
          timeoutSeconds: 120,
          timeLimitSeconds: 3600,
          record: false,
          recordFormat: 'mp3',
          onEnded: { stage: 'dial-ended' },
          onLegEvent: { stage: 'dial-event' },
        },
      ],
    },
  });
  const script = `
    const { connect } = require('nats');
    (async () => {
      const nc = await connect({ servers: ${JSON.stringify(natsUrl)} });
      const out = new TextEncoder().encode(${JSON.stringify(reply)});
      const sub = nc.subscribe(${JSON.stringify(RouteCall.subject)}, { queue: 'call-router' });
      process.send && process.send('ready');
      for await (const m of sub) { JSON.parse(new TextDecoder().decode(m.data)); m.respond(out); }
    })();`;
  return spawn(process.execPath, ['-e', script], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

async function main() {
  const quick = process.argv.includes('--quick');
  const seconds = quick ? 4 : 10;
  const bench = await startBenchSystem();
  const { baseUrl, running, store, nats } = bench;
  let router: ServiceProcess | undefined = running.processes.find((p) => p.service === 'call-router');
  let echo: ChildProcess | undefined;
  try {
    const { auth, api } = await bench.account();
    await fetch(`${api}/Number/`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        numbers: NUMBERS.join(','),
        provider: 'plivo',
        provider_auth_id: PROVIDER.authId,
        provider_auth_token: PROVIDER.token,
      }),
    });
    const sessionCount = quick ? 40 : 200;
    const calls: Array<{ from: string; to: string }> = [];
    for (let n = 0; n < sessionCount; n++) {
      const first = `+1646${String(5550000 + n)}`;
      const res = await fetch(`${api}/Masking/Session/`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          first_party: first,
          second_party: `+1718${String(5550000 + n)}`,
          first_party_play_url: 'http://127.0.0.1:9/media/hello.mp3',
        }),
      });
      const body = (await res.json()) as { virtual_number?: string };
      if (res.status === 201 && body.virtual_number)
        calls.push({ from: first, to: `+${body.virtual_number.replace(/^\+/, '')}` });
    }
    if (calls.length === 0) throw new Error('no session could be created');

    const url = `${baseUrl}/voice/plivo/answer`;
    const answer = (expect: string) => async (i: number) => {
      const call = calls[i % calls.length];
      const params = {
        CallUUID: randomUUID(),
        From: call.from.slice(1),
        To: call.to.slice(1),
        Direction: 'inbound',
        CallStatus: 'ringing',
        Event: 'StartApp',
      };
      const nonce = randomBytes(12).toString('hex');
      const res = await post(url, new URLSearchParams(params).toString(), {
        'content-type': 'application/x-www-form-urlencoded',
        'x-plivo-signature-v3': plivoV3Signature('POST', url, params, nonce, PROVIDER.token),
        'x-plivo-signature-v3-nonce': nonce,
      });
      return res.status === 200 && res.body.includes(expect);
    };
    const route = answer('<Dial');
    /** Until answers come from the wanted side (a few dozen calls also warm it up). */
    const waitFor = async (marker: string) => {
      let good = 0;
      for (let i = 0; i < 500 && good < 30; i++) {
        if (await answer(marker)(i).catch(() => false)) good++;
        else await sleep(20);
      }
      if (good < 30) throw new Error(`no answers with ${marker}`);
    };
    const ECHO = '16285550000';
    const PLAY = 'Play>http://127.0.0.1:9/media/hello.mp3';

    log(
      `whole system as processes on ${store ? 'FerretDB' : 'MONGO_URL'} + NATS started for this run; ` +
        `${calls.length} live sessions on ${NUMBERS.length} numbers; ${seconds} s per cell, open loop`,
    );
    log('');
    // Alternate floor and route twice at 200/s; each side keeps its better round (noise only adds).
    const rounds: Record<'floor' | 'route', Run[]> = { floor: [], route: [] };
    const single: Record<'floor' | 'route', Run[]> = { floor: [], route: [] };
    let cpu: Array<{ service: string; msPerCall: number }> = [];
    for (let round = 0; round < 2; round++) {
      await router?.stop('SIGTERM');
      router = undefined;
      echo = startEcho(nats.url);
      await waitFor(ECHO);
      single.floor.push(await oneByOne(200, answer(ECHO)));
      rounds.floor.push(await drive(200, seconds, answer(ECHO)));
      echo.kill();
      echo = undefined;
      router = bench.startService('call-router');
      await waitFor(PLAY);
      single.route.push(await oneByOne(200, route));
      const procs = [
        ...running.processes.filter((p) => p.service !== 'call-router'),
        router,
        ...(store ? [{ service: 'FerretDB', child: store.child }] : []),
        { service: 'NATS', child: nats.child },
        { service: 'load generator', child: { pid: process.pid } },
      ];
      const before = procs.map((p) => cpuSeconds(p.child.pid));
      const run = await drive(200, seconds, route);
      rounds.route.push(run);
      cpu = procs.map((p, i) => ({
        service: p.service,
        msPerCall: ((cpuSeconds(p.child.pid) - before[i]) * 1000) / (run.achieved * seconds),
      }));
    }
    const best = (runs: Run[]) => runs.reduce((a, b) => (b.p99 < a.p99 ? b : a));
    const floor = best(rounds.floor);
    const routed = best(rounds.route);
    log('path                          | rate/s | p50 (ms) | p99 (ms) | errors');
    for (const [name, r] of [
      ['floor: gateway → NATS echo', floor],
      ['answer: gateway → call-router', routed],
    ] as const) {
      log(
        `${name.padEnd(29)} | ${r.achieved.toFixed(0).padStart(6)} | ${r.p50.toFixed(1).padStart(8)} | ${r.p99
          .toFixed(1)
          .padStart(8)} | ${r.errors}`,
      );
    }
    const [floor1, routed1] = [best(single.floor), best(single.route)];
    log(
      `one at a time (service time): floor p50 ${floor1.p50.toFixed(1)} ms / p99 ${floor1.p99.toFixed(1)} ms; ` +
        `answer p50 ${routed1.p50.toFixed(1)} ms / p99 ${routed1.p99.toFixed(1)} ms`,
    );
    log(
      `CPU per answered call (last round at 200/s): ${cpu
        .map((c) => `${c.service} ${c.msPerCall.toFixed(2)} ms`)
        .join(', ')}`,
    );
    log('');
    const ratio = routed.p99 / floor.p99;
    log(
      `ratio to floor at 200 calls/s: p50 ${(routed.p50 / floor.p50).toFixed(2)}×, p99 ${ratio.toFixed(2)}× ` +
        `(target p99 ≤ 2×: ${ratio <= 2 ? 'met' : 'NOT met'})`,
    );

    log('');
    log('ramp (answer path)            | rate/s | p50 (ms) | p99 (ms) | errors');
    let held = 0;
    for (const rate of quick ? [200, 400, 800] : [200, 400, 600, 800, 1000, 1200, 1600, 2000]) {
      const r = await drive(rate, quick ? 3 : 5, route);
      log(
        `${`target ${rate}`.padEnd(29)} | ${r.achieved.toFixed(0).padStart(6)} | ${r.p50.toFixed(1).padStart(8)} | ${r.p99
          .toFixed(1)
          .padStart(8)} | ${r.errors}`,
      );
      if (r.p99 >= 50 || r.errors > 0 || r.achieved < rate * 0.95) break;
      held = rate;
    }
    log('');
    log(
      `highest rate held with p99 < 50 ms and no errors: ${held ? `${held} calls/s` : 'below 200 calls/s'}`,
    );
  } finally {
    echo?.kill();
    await router?.stop('SIGTERM').catch(() => undefined);
    await bench.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
