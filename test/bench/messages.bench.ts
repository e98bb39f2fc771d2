/**
 * npm run bench:messages — message relay latency: the time from a signed inbound message webhook
 * leaving the bench to the provider's REST API receiving the send to the other party, at a
 * steady rate (100 messages a second by default), p50 and p99, next to a floor measured in the same
 * run: the same signed webhook answered by an HTTP server that asks a NATS echo. Then the same load
 * with a second provider account sending as much whose API never answers: the healthy account's
 * p99 with it ÷ without it (target ≤ 1.2). The healthy account sends on a steady tick; the other
 * account's texts come at instants of their own, spread at random over the run, as two accounts'
 * customers text independently (`schedule`). A control run with a second account sending as much
 * whose API answers (at the same instants) separates the cost of the extra load (this machine's two
 * cores serve both) from the cost of the failing API; a run with a failing account sending a tenth
 * as much shows the hang's cost without the doubled load; and a run whose failing account sends at
 * the very instants of the healthy one's texts shows the lockstep case (each healthy text meets one
 * of the other's at every stage; until stop 67 every run with a second account sent that way).
 *
 * Alone, with the answering account and with a failing one (and the lockstep one, before or after it
 * in turn) run `--repeats` times in turn (a fresh failing account each time), each ratio is shown and
 * the target is read on their median: the p99s of single runs moved with whatever else this shared
 * machine did. After each failing run its API answers again, and the run waits until its backlog is
 * relayed, so that the next runs start without it (and the recovery is shown). The table pools the
 * repetitions.
 *
 * Each run starts once the previous one's events are consumed, with the healthy account sending alone,
 * unmeasured, for LEAD_IN_S: what is measured is a steady flow that the other account joins.
 *
 * The bench's own loop sends and times only the healthy account's texts. The other accounts' webhooks
 * go from a worker thread (WebhookSenderThread), and the providers' APIs answer on another, which
 * times each send as it arrives (ProviderSandboxThread; one monotonic clock for all three): another
 * account's webhooks no longer queue the healthy ones in the bench's loop. They still share the
 * process and the two cores with Maskline, and both accounts' sends share the sandbox's loop (as
 * they would share a provider's API); each thread's own lag is printed per run. (Until stop 68 one
 * loop did all of it, and its delay, which grew with the other account's texts, was counted in the
 * relay's.)
 *
 * Each run also prints the CPU each process spent per inbound message and the cores all of them
 * used by 2 s window; the table, the p99 of the webhook's own answer (the message taken into the
 * stream): what of the relay's time is taking the message, and what is relaying it. And what NATS
 * stores per inbound message (every stream and KV bucket, as JetStream accounts it), with what one
 * account at the default inbound limit would store an hour: the events stream keeps events 7 days.
 *
 *   --rate N       messages a second (default 100)   --seconds S   length of each run (default 20)
 *   --repeats N    repetitions (default 3)            --quick       --seconds 6 --repeats 1
 *   --seed N       the other accounts' instants (default: drawn from the clock, and printed)
 *   --outage S     instead: one long outage (`outage`): the healthy account and a never-answering one
 *                  (as much) for S seconds, by 30 s window, with the relay's deliveries a second
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { connect, type NatsConnection } from 'nats';
import { DEFAULT_INBOUND_PER_SECOND, MessageReceived, STREAMS } from '@maskline/contracts';
import { TelephonySimulator } from '@maskline/telephony-simulator';
import { infra, log, pct, startBenchSystem } from './support/bench-system';
import { monotonicMs, waitUntil } from './support/monotonic-clock';
import { cpuMsByName, cpuPerOperation } from './support/process-cpu';
import { ProviderSandboxThread } from './support/provider-sandbox.thread';
import { WebhookSenderThread, type PlannedText } from './support/webhook-sender.thread';

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

interface Run {
  latencies: number[];
  answered: number[];
  /** Webhooks (of every tenant in the run) not answered 200. */
  failed: number;
  missing: number;
  others: string[];
  /** JetStream storage the run added (every stream and bucket), per inbound message of every tenant. */
  storedPerMessage?: number;
}

/** The inbound limit of one account (INBOUND_RATE_LIMIT_PER_SECOND's default): what one tenant may send. */
const INBOUND_LIMIT_PER_SECOND = DEFAULT_INBOUND_PER_SECOND;

interface GatewayWindow {
  /** The event loop's delay since the last scrape (prom-client resets it at each). */
  loopP99Ms: number;
  loopMaxMs: number;
  /** Time spent in garbage collection since the last scrape, every kind. */
  gcMs: number;
}

/** The gateway's `/metrics`, read once a window: what its event loop and collector did in it. */
class GatewayLoopWatch {
  private gcSeconds?: number;

  constructor(private readonly url: string) {}

  async next(): Promise<GatewayWindow | undefined> {
    const text = await (await fetch(this.url)).text();
    const value = (name: string) =>
      text
        .split('\n')
        .filter((line) => line.startsWith(name))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    const gc = value('nodejs_gc_duration_seconds_sum');
    const before = this.gcSeconds;
    this.gcSeconds = gc;
    if (before === undefined) return undefined;
    return {
      loopP99Ms: value('nodejs_eventloop_lag_p99_seconds') * 1000,
      loopMaxMs: value('nodejs_eventloop_lag_max_seconds') * 1000,
      gcMs: (gc - before) * 1000,
    };
  }
}

/**
 * How the other accounts' texts arrive beside the healthy one's steady ticks. Their own senders'
 * customers text when they text: each other account's texts come at instants of their own, spread at
 * random over the run (as many as asked, so the load is the same; a Poisson stream given its count),
 * drawn from a generator seeded by `seed` (the bench's `--seed`, printed, and the repetition: a
 * repetition's control and failing runs meet the same instants, and each invocation draws anew).
 * `together`: each of them at the very instant of a healthy one's (every healthy text meets another
 * at every stage: the old bench's pattern).
 */
function schedule(
  tenants: number,
  total: number,
  every: number,
  together: boolean,
  seed: number,
  periodMs: number,
): Array<{ at: number; k: number; i: number }> {
  const events: Array<{ at: number; k: number; i: number }> = [];
  for (let i = 0; i < total; i++) events.push({ at: i * periodMs, k: 0, i });
  // mulberry32: a small seeded generator (Math.random cannot be seeded).
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let k = 1; k < tenants; k++) {
    const count = Math.ceil(total / every);
    for (let i = 0; i < count; i++) {
      const at = together ? i * every * periodMs : random() * total * periodMs;
      events.push({ at, k, i });
    }
  }
  // Stable: at one instant the healthy account's text first (they go from two threads, which send at
  // that instant each: which of the two goes first is theirs to race).
  return events.sort((a, b) => a.at - b.at || a.k - b.k);
}

function median(v: number[]): number {
  const sorted = [...v].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The width of the windows the healthy account's p99 is shown by. */
const WINDOW_S = 2;
/** ...and in a long outage (`--outage`). */
const OUTAGE_WINDOW_S = 30;
/**
 * Seconds the healthy account sends, unmeasured, before each run: a run measures a steady flow
 * (connections open, routing cached), as a provider account failing in production meets one, not the
 * bench's own start after a pause (the first 2 s window was the slowest of every kind of run, alone
 * included: 80–150 ms against 20–30). The other account starts with the measurement, so a failing
 * one's first seconds (its sends hanging until its breaker opens) are measured.
 */
const LEAD_IN_S = 2;
/** How long after a run's plan is made its first text (the lead-in's) goes: room to hand the plan over. */
const PLAN_AHEAD_MS = 200;
/** Longest wait for the previous run's events to be consumed before the next run starts. */
const QUIET_WAIT_MS = 60_000;

async function main() {
  const rate = arg('rate', 100);
  const seconds = process.argv.includes('--quick') ? 6 : arg('seconds', 20);
  // At most 5: each repetition's failing account has numbers and parties of its own (below).
  const repeats = Math.min(5, Math.max(1, process.argv.includes('--quick') ? 1 : arg('repeats', 3)));
  // Each invocation draws the other accounts' instants anew unless told which (`schedule`).
  const seed = arg('seed', Date.now() % 1_000_000) | 0;
  const outage = arg('outage', 0);
  // The providers' APIs on a thread of their own: each send timed as it arrives (ProviderSandboxThread).
  const sandbox = await ProviderSandboxThread.start();
  const arrivals = sandbox.arrivals;
  // The gateway's ops server, scraped by window: its event loop's delay and its collections.
  const gatewayOpsPort = await infra.freePort();
  const bench = await startBenchSystem({
    env: { PLIVO_API_BASE_URL: sandbox.url, TWILIO_API_BASE_URL: sandbox.url },
    serviceEnv: (s): Record<string, string> =>
      s === 'call-router'
        ? { OUTBOUND_TIMEOUT_MS: '2000', LOG_LEVEL: process.env.BENCH_CALL_ROUTER_LOG_LEVEL ?? 'warn' }
        : s === 'gateway'
          ? { OPS_PORT: String(gatewayOpsPort) }
          : {},
  });
  const gatewayLoop = new GatewayLoopWatch(`http://127.0.0.1:${gatewayOpsPort}/metrics`);
  const nc: NatsConnection = await connect({ servers: bench.nats.url });
  const jsm = await nc.jetstreamManager();
  const stored = async () => (await jsm.getAccountInfo()).storage;
  /** Deliveries the relay's consumer (the one that takes inbound messages) has had, first ones and again. */
  const relayDeliveries = async () => {
    const stream = STREAMS[MessageReceived.stream].name;
    let delivered = 0;
    for await (const c of jsm.consumers.list(stream)) {
      const filters = [c.config.filter_subject, ...(c.config.filter_subjects ?? [])];
      if (filters.includes(MessageReceived.subject)) delivered += c.delivered.consumer_seq;
    }
    return delivered;
  };
  /** Inbound messages every run sent, every tenant's: what the storage by stream is divided by. */
  let sentInBench = 0;
  const floorServer = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      void nc.request('bench.echo', new Uint8Array(8), { timeout: 2000 }).then(
        () => res.writeHead(200).end(),
        () => res.writeHead(503).end(),
      );
    });
  });
  let sender: WebhookSenderThread | undefined;
  try {
    // The other tenants' webhooks from a thread of their own (WebhookSenderThread).
    const webhooks = await WebhookSenderThread.start(bench.baseUrl);
    sender = webhooks;
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
    const other = await tenant('bench-other', '+1212555070', '+1628559');
    const brokenLight = await tenant('bench-broken-light', '+1718555070', '+1628556');
    // A fresh failing account for each repetition: its breaker closed, as an account that fails anew.
    const broken: Tenant[] = [];
    for (let r = 0; r < repeats; r++)
      broken.push(await tenant(`bench-broken-${r}`, `+164655507${r}`, `+162855${r}`));
    // And one for each repetition's run with texts at the healthy account's instants.
    const brokenTogether: Tenant[] = [];
    for (let r = 0; r < repeats; r++)
      brokenTogether.push(await tenant(`bench-broken-together-${r}`, `+134755507${r}`, `+162854${r}`));
    for (const t of [brokenLight, ...broken, ...brokenTogether]) sandbox.hangAccount(t.provider.accountId);

    /**
     * Waits until every durable consumer has taken and settled what was published (at most
     * QUIET_WAIT_MS): a run starts without the previous one's events (interactions, callbacks) still
     * being consumed.
     */
    const quiet = async (label: string) => {
      const deadline = performance.now() + QUIET_WAIT_MS;
      let busy: string[] = [];
      do {
        busy = [];
        for await (const stream of jsm.streams.list()) {
          for await (const c of jsm.consumers.list(stream.config.name)) {
            if (c.config.durable_name && (c.num_pending > 0 || c.num_ack_pending > 0)) {
              busy.push(`${c.name} ${c.num_pending} pending, ${c.num_ack_pending} unsettled`);
            }
          }
        }
        if (busy.length === 0) return;
        await new Promise((r) => setTimeout(r, 200));
      } while (performance.now() < deadline);
      log(`${label}: started with events still being consumed: ${busy.join('; ')}`);
    };

    /**
     * Sends `rate` messages a second for `seconds` from the first tenant, and from each other one
     * a `every`-th as many (1: as much), at instants of their own drawn from `seed` (`schedule`)
     * unless `together`;
     * the first one's relay latencies.
     */
    const run = async (
      label: string,
      tenants: Tenant[],
      {
        every = 1,
        together = false,
        seed = 0,
        seconds: runSeconds = seconds,
        windowS = WINDOW_S,
      }: { every?: number; together?: boolean; seed?: number; seconds?: number; windowS?: number } = {},
    ) => {
      await quiet(label);
      const processes = () => [...bench.pids(), { name: 'bench', pid: process.pid }];
      const loopDelay = monitorEventLoopDelay({ resolution: 1 });
      const storedBefore = await stored();
      // The lead-in: the healthy account alone, unmeasured (LEAD_IN_S).
      const lead = rate * LEAD_IN_S;
      const leadStart = monotonicMs() + PLAN_AHEAD_MS;
      // The measurement follows the lead-in's last message at the same pace.
      const t0 = leadStart + (lead * 1000) / rate;
      const total = rate * runSeconds;
      const planned = schedule(tenants.length, total, every, together, seed, 1000 / rate);
      /** The other tenants' texts, sent from their thread at their instants (WebhookSenderThread). */
      const plan: PlannedText[] = planned
        .filter(({ k }) => k > 0)
        .map(({ at, k, i }) => {
          const [vn, first] = tenants[k].sessions[i % tenants[k].sessions.length];
          const text = `${label} ${k} ${i} ${randomBytes(4).toString('hex')}`;
          return { atMs: t0 + at, tenant: k - 1, from: first, to: vn, text };
        });
      /** The other tenants' texts: a failing one's, to see them relayed once its API is back. */
      const others = plan.map((p) => p.text);
      const othersSent = webhooks.send(
        tenants.slice(1).map((t) => t.provider),
        plan,
      );
      // The sandbox's loop delay from here (and every arrival so far handed over).
      await sandbox.flush();
      const leadIn: Array<Promise<unknown>> = [];
      for (let i = 0; i < lead; i++) {
        await waitUntil(leadStart + (i * 1000) / rate);
        const [vn, first] = tenants[0].sessions[i % tenants[0].sessions.length];
        leadIn.push(
          tenants[0].sim.text({ from: first, to: vn, text: `${label} lead-in ${i}` }).catch(() => undefined),
        );
      }
      loopDelay.enable();
      const cpuBefore = cpuMsByName(processes());
      // The cores every process used together, by window: what the failing account's first seconds cost.
      const cores: number[] = [];
      let lastCpu = [...cpuBefore.values()].reduce((a, b) => a + b, 0);
      // The relay's deliveries (first ones and every look again) a second, by window.
      const relayRates: number[] = [];
      let lastDelivered = await relayDeliveries();
      const gatewayWindows: GatewayWindow[] = [];
      let gatewayScrape = gatewayLoop.next().catch(() => undefined);
      const sampler = setInterval(() => {
        const now = [...cpuMsByName(processes()).values()].reduce((a, b) => a + b, 0);
        cores.push((now - lastCpu) / (windowS * 1000));
        lastCpu = now;
        void relayDeliveries().then((delivered) => {
          relayRates.push((delivered - lastDelivered) / windowS);
          lastDelivered = delivered;
        });
        gatewayScrape = gatewayScrape.then(() =>
          gatewayLoop.next().then(
            (w) => void (w && gatewayWindows.push(w)),
            () => undefined,
          ),
        );
      }, windowS * 1000);
      const started = new Map<string, number>();
      const answered: number[] = [];
      /** How late (ms) the bench sent each healthy text after its instant: its own lag, not the system's. */
      const late: number[] = [];
      const sentInAll = planned.length;
      let failed = 0;
      /** Why webhooks were not answered 200: a status, or the error the request failed with. */
      const why = new Map<string, number>();
      const inFlight: Array<Promise<unknown>> = [...leadIn];
      for (const { at: offset, i } of planned.filter(({ k }) => k === 0)) {
        await waitUntil(t0 + offset);
        const [vn, first] = tenants[0].sessions[i % tenants[0].sessions.length];
        const text = `${label} 0 ${i} ${randomBytes(4).toString('hex')}`;
        // Timed from when it went (the clock the sandbox's thread times arrivals on): how late the
        // bench itself sent it is shown, not counted.
        const at = monotonicMs();
        started.set(text, at);
        late.push(at - (t0 + offset));
        // A webhook that fails (no answer, not 200) is counted, never left to reject unheard.
        inFlight.push(
          tenants[0].sim.text({ from: first, to: vn, text }).then(
            ({ status }) => {
              if (status !== 200) {
                failed++;
                why.set(`HTTP ${status}`, (why.get(`HTTP ${status}`) ?? 0) + 1);
              } else answered.push(monotonicMs() - at);
            },
            (err: unknown) => {
              failed++;
              const reason = err instanceof Error ? err.message.slice(0, 80) : 'no answer';
              why.set(reason, (why.get(reason) ?? 0) + 1);
            },
          ),
        );
      }
      await Promise.all(inFlight);
      const { why: othersWhy, lateMs: othersLate } = await othersSent;
      for (const [reason, n] of othersWhy) {
        failed += n;
        why.set(reason, (why.get(reason) ?? 0) + n);
      }
      clearInterval(sampler);
      await gatewayScrape;
      const deadline = monotonicMs() + 30_000;
      while ([...started.keys()].some((t) => !arrivals.has(t)) && monotonicMs() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const sandboxLoop = await sandbox.flush();
      const latencies = [...started].flatMap(([t, at]) => (arrivals.has(t) ? [arrivals.get(t)! - at] : []));
      // The healthy account's p99 by window of the run: a cost at the start (a breaker tripping) or throughout.
      const windows = Array.from({ length: Math.ceil(runSeconds / windowS) }, () => [] as number[]);
      for (const [t, at] of started) {
        if (arrivals.has(t)) windows[Math.floor((at - t0) / 1000 / windowS)]?.push(arrivals.get(t)! - at);
      }
      const cpu = cpuPerOperation(cpuBefore, cpuMsByName(processes()), sentInAll);
      log(`${label}: CPU per inbound message ${cpu}`);
      sentInBench += sentInAll + lead;
      const storedPerMessage = ((await stored()) - storedBefore) / (sentInAll + lead);
      log(`${label}: NATS storage per inbound message ${storedPerMessage.toFixed(0)} bytes`);
      log(
        `${label}: p99 ms by ${windowS} s window: ${windows.map((w) => (w.length ? pct(w, 99).toFixed(0) : '-')).join(' ')}`,
      );
      loopDelay.disable();
      log(
        `${label}: bench event loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms; ` +
          `healthy texts sent after their instant p50 ${pct(late, 50).toFixed(1)} ms, p99 ${pct(late, 99).toFixed(1)} ms`,
      );
      // The two threads' own lag: the other accounts' sender's, and the providers' APIs' (which times arrivals).
      log(
        `${label}: sandbox thread loop delay p99 ${sandboxLoop.p99Ms.toFixed(1)} ms, max ${sandboxLoop.maxMs.toFixed(1)} ms` +
          (othersLate.length > 0
            ? `; other accounts' texts sent after their instant p50 ${pct(othersLate, 50).toFixed(1)} ms, p99 ${pct(othersLate, 99).toFixed(1)} ms`
            : ''),
      );
      log(`${label}: cores used by ${windowS} s window: ${cores.map((c) => c.toFixed(2)).join(' ')}`);
      log(
        `${label}: the relay's deliveries a second (first ones and looks again) by ${windowS} s window: ` +
          relayRates.map((r) => r.toFixed(0)).join(' '),
      );
      log(
        `${label}: gateway event loop delay p99/max ms, and ms collecting, by ${windowS} s window: ` +
          gatewayWindows
            .map((w) => `${w.loopP99Ms.toFixed(0)}/${w.loopMaxMs.toFixed(0)} gc ${w.gcMs.toFixed(0)}`)
            .join(', '),
      );
      if (failed > 0) {
        const reasons = [...why].map(([reason, n]) => `${n} × ${reason}`).join(', ');
        log(`${label}: ${failed} webhooks not answered 200 (${reasons})`);
      }
      return {
        latencies,
        answered,
        missing: started.size - latencies.length,
        others,
        failed,
        storedPerMessage,
      };
    };

    /**
     * A failing account's API answers again: its backlog is relayed (each message at its next look),
     * and the next run starts without it. How many of its messages arrived, and when.
     */
    const recover = async (label: string, t: Tenant, texts: string[]) => {
      sandbox.answerAgain(t.provider.accountId);
      const since = monotonicMs();
      // Two minutes, and longer for a backlog its looks are paced through (HeldLookPacer).
      const deadline = since + 120_000 + (texts.length / INBOUND_LIMIT_PER_SECOND) * 1000;
      while (texts.some((x) => !arrivals.has(x)) && monotonicMs() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
      }
      await sandbox.flush();
      const relayed = texts.filter((x) => arrivals.has(x)).length;
      log(
        `${label}: once its API answered again, ${relayed} of the failing account's ${texts.length} messages ` +
          `relayed within ${((monotonicMs() - since) / 1000).toFixed(0)} s`,
      );
    };

    /** The floor: the same signed webhook, answered by an HTTP server that asks a NATS echo. */
    const floor = async () => {
      let failed = 0;
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
          floorSim.text({ from: first, to: vn, text: `floor ${i}` }).then(
            () => void latencies.push(performance.now() - at),
            () => void failed++,
          ),
        );
      }
      await Promise.all(inFlight);
      if (failed > 0) log(`floor: ${failed} requests failed`);
      return latencies;
    };

    log(
      `bench:messages — ${rate} messages/s for ${seconds} s per run, Plivo dialect, 5 sessions per tenant; ` +
        `the other accounts' instants drawn with --seed ${seed}`,
    );
    // Warm-up: connections, caches, the routing index.
    // The other accounts' thread too (its code and connections), with another account a tenth as much.
    await run('warm', [healthy, other], { every: 10 });
    if (outage > 0) {
      // One long outage: what a held-back backlog that keeps growing costs the healthy account, window
      // by window, and how often the relay looks at it (HeldLookPacer paces a large one).
      const label = `outage of ${outage} s`;
      const held = await run(label, [healthy, broken[0]], {
        seed,
        seconds: outage,
        windowS: OUTAGE_WINDOW_S,
      });
      await recover(label, broken[0], held.others);
      return;
    }
    const floorMs = await floor();
    // A failing account (another) at a tenth of the load: what the hang costs when the two cores are
    // not also serving a doubled load.
    const withBrokenTenth = await run('with-broken-tenth', [healthy, brokenLight], { every: 10, seed });
    await recover('with-broken-tenth', brokenLight, withBrokenTenth.others);
    // Alone, with an answering account, with a failing one, `repeats` times over: a ratio of two p99s
    // of one run each moved with whatever else this shared machine did meanwhile (0.7 to 2.5 over
    // runs of the same code); each repetition's ratio, and their median.
    const pairs: Array<{ alone: Run; withOther: Run; withBroken: Run; withBrokenTogether: Run }> = [];
    for (let r = 0; r < repeats; r++) {
      // The control and the failing run of a repetition meet the same instants.
      const drawn = { seed: seed + r + 1 };
      const alone = await run(`alone #${r + 1}`, [healthy]);
      const withOther = await run(`with-other #${r + 1}`, [healthy, other], drawn);
      const failing = async () => {
        const withBroken = await run(`with-broken #${r + 1}`, [healthy, broken[r]], drawn);
        await recover(`with-broken #${r + 1}`, broken[r], withBroken.others);
        return withBroken;
      };
      const failingTogether = async () => {
        const label = `with-broken-together #${r + 1}`;
        const withBrokenTogether = await run(label, [healthy, brokenTogether[r]], { together: true });
        await recover(label, brokenTogether[r], withBrokenTogether.others);
        return withBrokenTogether;
      };
      // In turn, which of the two failing runs goes first (the later one meets a larger store).
      let withBroken: Run;
      let withBrokenTogether: Run;
      if (r % 2 === 0) {
        withBroken = await failing();
        withBrokenTogether = await failingTogether();
      } else {
        withBrokenTogether = await failingTogether();
        withBroken = await failing();
      }
      pairs.push({ alone, withOther, withBroken, withBrokenTogether });
    }
    const pooled = (pick: (p: (typeof pairs)[number]) => Run): Run => ({
      latencies: pairs.flatMap((p) => pick(p).latencies),
      answered: pairs.flatMap((p) => pick(p).answered),
      missing: pairs.reduce((n, p) => n + pick(p).missing, 0),
      failed: pairs.reduce((n, p) => n + pick(p).failed, 0),
      others: [],
    });
    const alone = pooled((p) => p.alone);
    const withOther = pooled((p) => p.withOther);
    const withBroken = pooled((p) => p.withBroken);
    const withBrokenTogether = pooled((p) => p.withBrokenTogether);
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
      'the same, with another account sending as much at the same instants (its API never answering)',
      withBrokenTogether.latencies,
      floorMs,
      withBrokenTogether.answered,
    );
    row(
      'the same, with another account sending a tenth as much (its API never answering)',
      withBrokenTenth.latencies,
      floorMs,
      withBrokenTenth.answered,
    );
    log();
    const p99 = (r: Run) => pct(r.latencies, 99);
    const ratios = pairs.map((p) => p99(p.withBroken) / p99(p.alone));
    const isolation = pairs.map((p) => p99(p.withBroken) / p99(p.withOther));
    const all = (v: number[]) => v.map((x) => x.toFixed(2)).join(' ');
    log(
      `healthy p99 with a never-answering account (its texts at instants of their own) ÷ without, by repetition: ${all(ratios)}; ` +
        `median ${median(ratios).toFixed(2)} (target ≤ 1.2); pooled ${(p99(withBroken) / p99(alone)).toFixed(2)}`,
    );
    log(
      `÷ with an answering account at the same load, by repetition: ${all(isolation)}; ` +
        `median ${median(isolation).toFixed(2)}; ` +
        `not relayed within 30 s: ${alone.missing} / ${withOther.missing} / ${withBroken.missing} / ${withBrokenTenth.missing}; ` +
        `webhooks not answered 200: ${[alone, withOther, withBroken, withBrokenTenth].map((r) => r.failed).join(' / ')}`,
    );
    // Two runs of the same thing: what a ratio of two p99s moves by on this machine with nothing changed.
    const same = pairs.slice(1).map((p, r) => p99(p.alone) / p99(pairs[r].alone));
    if (same.length > 0)
      log(`healthy p99 alone ÷ the previous repetition's alone (nothing changed): ${all(same)}`);
    const together = pairs.map((p) => p99(p.withBrokenTogether) / p99(p.alone));
    log(
      `healthy p99 with a never-answering account whose texts come at the healthy one's instants ÷ without, by repetition: ${all(together)}; ` +
        `median ${median(together).toFixed(2)}; not relayed within 30 s: ${withBrokenTogether.missing}; ` +
        `webhooks not answered 200: ${withBrokenTogether.failed}`,
    );
    log(
      `healthy p99 with a never-answering account sending a tenth as much ÷ without (pooled): ` +
        `${(p99(withBrokenTenth) / p99(alone)).toFixed(2)}`,
    );
    // What one tenant's texts (of this bench's length, ~30 characters) cost the NATS volume every
    // tenant shares: the relayed ones, as alone.
    const perMessage = median(pairs.map((p) => p.alone.storedPerMessage ?? 0));
    log(
      `NATS storage per relayed message (alone, median): ${perMessage.toFixed(0)} bytes; one account at the ` +
        `default inbound limit (${INBOUND_LIMIT_PER_SECOND}/s) would add ` +
        `${((perMessage * INBOUND_LIMIT_PER_SECOND * 3600) / 1e9).toFixed(2)} GB an hour`,
    );
    const byStream: Array<[string, number]> = [];
    for await (const info of jsm.streams.list()) byStream.push([info.config.name, info.state.bytes]);
    byStream.sort((a, b) => b[1] - a[1]);
    log(
      `of which, by stream, per inbound message of the whole bench (${sentInBench}): ` +
        byStream
          .filter(([, bytes]) => bytes / sentInBench >= 10)
          .map(([name, bytes]) => `${name} ${(bytes / sentInBench).toFixed(0)}`)
          .join(', '),
    );
  } finally {
    floorServer.close();
    await nc.close();
    await sender?.close();
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
