/**
 * npm run bench:soak — creates and expires SOAK_SESSIONS sessions (100,000 by default) through the
 * whole system (every service a process, on FerretDB + NATS started for the run), at a steady
 * open-loop rate (SOAK_RATE per second), with a call on every tenth session (half of them a party
 * calling, half an unregistered phone entering a PIN) and callbacks to a local receiver. It
 * compares the first tenth of the sessions with the last: whatever reads or updates a collection
 * that grows with history gets slower as the run goes on, and shows here as a ratio above 1.
 *
 * The load runs on after the last measured session until that session has expired, so the end
 * window's expiries happen under the same load as the start window's.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { connect, type NatsConnection } from 'nats';
import {
  AllocateNumber,
  ReleaseAllocation,
  SessionExpired,
  rpcEnvelopeSchema,
  type RpcContract,
} from '@maskline/contracts';
import { STEP_PREFIX, SWEEP_TURNS_BUCKET, decodeJson, encodeJson, kvDecode } from '@maskline/messaging';
import { TelephonySimulator, type Provider } from '@maskline/telephony-simulator';
import { CallbackReceiver } from '../e2e/support/callback-receiver';
import { log, pct, startBenchSystem } from './support/bench-system';
import {
  BY_DAY,
  REDACTED_AFTER_MS,
  collectionsOf,
  seedHistory,
  type SeedReport,
} from './support/history-seeder';

const argValue = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const TOTAL = Number(argValue('--sessions') ?? process.env.SOAK_SESSIONS ?? 100_000);
const RATE = Number(argValue('--rate') ?? process.env.SOAK_RATE ?? 5);
/** Session lifetimes, seconds. */
const EXPIRY: [number, number] = [20, 40];
/** The share of the sessions measured at each end. */
const WINDOW = 0.1;
const MAX_IN_FLIGHT = 400;
/**
 * One API get and one list this often (`--api-probe-every <ms>`; 0: none, to see the hot paths
 * without them). On FerretDB both read the history (a scan of the ended sessions and call steps:
 * a second or more each at 5,000 ended sessions); any more often and their load on the store, not
 * the hot paths' own work, is what slows the hot paths at the end of the run.
 */
const API_PROBE_EVERY_MS = Number(argValue('--api-probe-every') ?? 30_000);
const PROVIDERS: Provider[] = ['plivo', 'twilio'];
/**
 * `--seed-history <sessions>`: once the start window has run, the store is given the history of that
 * many more sessions (copies of the run's own, spread over the last days: `support/history-seeder`),
 * so the end window runs on a history of that size without hours of load to build it. 0: none.
 */
const SEED_HISTORY = Number(argValue('--seed-history') ?? 0);
/**
 * `--sweep-in-end-window`: the services' first retention sweep is timed for the end window (their
 * sweep interval is the time from their start to it, and half a minute), so that the end window
 * measures the hot paths while a sweep works through the (seeded) history. The report says how much
 * of each run fell in it.
 */
const SWEEP_IN_END_WINDOW = process.argv.includes('--sweep-in-end-window');
/**
 * With a seeded history, every record is kept this long (the shortest retention pin-auth allows),
 * and the seeded history reaches one sweep interval past it: the sweeps have their steady work to
 * do during the run, and the report shows whether they kept up.
 */
const SEEDED_RETENTION_DAYS = 7;
const SWEEP_INTERVAL_MS = 600_000;
const DAY_MS = 24 * 3600_000;

interface Sample {
  /** The session's index in creation order: which window the sample belongs to. */
  index: number;
  ms: number;
}

type Measure =
  | 'create'
  | 'answer webhook'
  | 'PIN verify (webhook)'
  | 'allocation'
  | 'callback delivery'
  | 'callback from event'
  | 'expiry lag'
  | 'API get'
  | 'API list';

const samples = new Map<Measure, Sample[]>();
const record = (measure: Measure, index: number, ms: number) => {
  const list = samples.get(measure) ?? [];
  list.push({ index, ms });
  samples.set(measure, list);
};
/** Probes that got no 200 (a timeout is a 503 from the gateway): counted, not left out silently. */
const failures = new Map<Measure, string[]>();
const recordFailure = (measure: Measure, status: number) =>
  failures.set(measure, [...(failures.get(measure) ?? []), String(status)]);

async function main() {
  if (!Number.isInteger(TOTAL) || TOTAL < 100) throw new Error('--sessions must be an integer ≥ 100');
  if (!(RATE > 0)) throw new Error('--rate must be positive');
  if (!(API_PROBE_EVERY_MS >= 0)) throw new Error('--api-probe-every must be 0 (none) or a number of ms');
  if (!Number.isInteger(SEED_HISTORY) || SEED_HISTORY < 0)
    throw new Error('--seed-history must be 0 (none) or a number of sessions');
  // The soak reads each callback as it comes (its handler below); keeping them all would hold them all.
  const receiver = await CallbackReceiver.start({ keepReceived: false });
  // The receiver is on loopback, which callbacks may reach only when the operator allows it.
  const retention = String(SEEDED_RETENTION_DAYS);
  const bench = await startBenchSystem({
    env: {
      CALLBACK_HOST_ALLOWLIST: '127.0.0.1',
      RETENTION_SWEEP_INTERVAL_MS: String(
        SWEEP_IN_END_WINDOW
          ? Math.round(((TOTAL - Math.floor(TOTAL * WINDOW)) / RATE) * 1000) + 30_000
          : SWEEP_INTERVAL_MS,
      ),
      ...(SEED_HISTORY > 0
        ? {
            SESSION_RETENTION_DAYS: retention,
            CALLBACK_ATTEMPT_RETENTION_DAYS: retention,
            DEAD_LETTER_RETENTION_DAYS: retention,
            PIN_ATTEMPT_RETENTION_DAYS: retention,
          }
        : {}),
    },
  });
  const nc = await connect({ servers: bench.nats.url });
  const store = await mongoose.createConnection(bench.mongoUrl).asPromise();
  try {
    const { authId, auth, api } = await bench.account('soak');
    const providerAccounts = {
      plivo: {
        accountId: `MA${randomBytes(9).toString('hex').toUpperCase()}`,
        authToken: randomBytes(20).toString('hex'),
      },
      twilio: {
        accountId: `AC${randomBytes(16).toString('hex')}`,
        authToken: randomBytes(16).toString('hex'),
      },
    };
    const providerOf = new Map<string, Provider>();
    for (const [p, provider] of PROVIDERS.entries()) {
      const numbers = Array.from({ length: 5 }, (_, i) => `+1415${5 + p}55${String(i).padStart(4, '0')}`);
      const res = await fetch(`${api}/Number/`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          numbers: numbers.join(','),
          provider,
          provider_auth_id: providerAccounts[provider].accountId,
          provider_auth_token: providerAccounts[provider].authToken,
        }),
      });
      if (res.status !== 202) throw new Error(`adding ${provider} numbers: HTTP ${res.status}`);
      for (const n of numbers) providerOf.set(n, provider);
    }
    const rpc = async <C extends RpcContract>(contract: C, payload: unknown) => {
      const msg = await nc.request(contract.subject, encodeJson(payload), { timeout: 10_000 });
      const envelope = rpcEnvelopeSchema.parse(decodeJson(msg.data));
      if (!envelope.ok) throw new Error(envelope.error.message);
      return envelope.data;
    };

    // When each session was due to expire, and when its expiry callback came; when each PIN entry
    // was answered, and when its PIN callback came (joined at the end: either may come first).
    const limit = Math.floor(TOTAL * WINDOW);
    const dueAt = new Map<string, { index: number; at: number }>();
    const timeoutAt = new Map<string, number>();
    const pinAnsweredAt = new Map<string, { index: number; at: number }>();
    const pinCallbackAt = new Map<string, number>();
    // When each session's end was published on the stream (seen here as a plain subscriber): from
    // it to the callback is the dispatcher's part alone, for every session, where the PIN measure
    // has a tenth of them (its p99 in a window of 2,400 sessions is the third slowest of 240).
    const endPublishedAt = new Map<string, number>();
    nc.subscribe(SessionExpired.subject, {
      callback: (err, msg) => {
        if (err) return;
        const id = (decodeJson(msg.data) as { sessionId?: string }).sessionId;
        if (id && !endPublishedAt.has(id)) endPublishedAt.set(id, Date.now());
      },
    });
    /** End-window sessions whose expiry callback has not come yet, and the latest of their due times. */
    const endPending = new Set<string>();
    let endLatestDue = 0;
    let measuredSettled = 0;
    receiver.on('/cb', (cb) => {
      const id = cb.params.SessionUUID;
      if (cb.params.EventName === 'SessionTimeout') {
        timeoutAt.set(id, cb.at);
        endPending.delete(id);
      } else if (cb.params.EventName === 'SessionPinAuthenticationStatus') {
        if (!pinCallbackAt.has(id)) pinCallbackAt.set(id, cb.at);
      }
      return { status: 200 };
    });

    let created = 0;
    let failed = 0;
    let inFlight = 0;
    let skipped = 0;
    let spare = 0;
    const recent: string[] = [];
    const runOne = async (index: number) => {
      const pin = index % 10 === 5;
      const call = index % 10 === 0 || pin;
      const first = `+1646${String(2000000 + index).padStart(7, '0')}`;
      const second = `+1718${String(2000000 + index).padStart(7, '0')}`;
      const expiry = EXPIRY[0] + (index % (EXPIRY[1] - EXPIRY[0] + 1));
      const t0 = performance.now();
      const sentAt = Date.now();
      const res = await fetch(`${api}/Masking/Session/`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          first_party: first,
          second_party: second,
          session_expiry: expiry,
          callback_url: `${receiver.baseUrl}/cb`,
          ...(pin
            ? { is_pin_authentication_required: true, generate_pin: true, generate_pin_length: 6 }
            : {}),
        }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json().catch(() => ({}))) as {
        session_uuid?: string;
        virtual_number?: string;
        session?: { first_party_pin?: string };
      };
      if (res.status !== 201 || !body.session_uuid) {
        if (failed++ === 0)
          log(`  first failed create: HTTP ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
        return;
      }
      record('create', index, performance.now() - t0);
      created++;
      const id = body.session_uuid;
      // Due at its expiry, counted from when the request left (the server's clock starts later).
      const due = sentAt + expiry * 1000;
      dueAt.set(id, { index, at: due });
      if (index >= TOTAL - limit && index < TOTAL && !timeoutAt.has(id)) {
        endPending.add(id);
        endLatestDue = Math.max(endLatestDue, due);
      }
      recent.push(id);
      if (recent.length > 100) recent.shift();
      if (!call) return;
      const virtualNumber = `+${String(body.virtual_number).replace(/^\+/, '')}`;
      const provider = providerOf.get(virtualNumber) ?? 'plivo';
      const sim = new TelephonySimulator(bench.baseUrl, provider, providerAccounts[provider]);
      const digits = pin ? [String(body.session?.first_party_pin)] : [];
      const report = await sim.call({
        from: pin ? `+1628777${String(spare++ % 10000).padStart(4, '0')}` : first,
        to: virtualNumber,
        digits,
        callee: { answers: true, talkSeconds: 1 },
      });
      const [answer, entry] = report.requests;
      if (answer?.status === 200) record('answer webhook', index, answer.ms);
      if (pin && entry?.status === 200) {
        record('PIN verify (webhook)', index, entry.ms);
        pinAnsweredAt.set(id, { index, at: entry.answeredAt });
      }
    };
    const settle = (index: number) => {
      if (index < TOTAL) measuredSettled++;
    };

    // Allocation, asked of number-pool directly (what a creation's saga asks), once a second.
    let probe = 0;
    const probeAllocation = async (index: number) => {
      const allocationId = randomUUID();
      const n = probe++;
      const t0 = performance.now();
      await rpc(AllocateNumber, {
        scope: { accountId: authId },
        allocationId,
        parties: [
          `+1917${String(2000000 + n).padStart(7, '0')}`,
          `+1929${String(2000000 + n).padStart(7, '0')}`,
        ],
        geomatch: false,
        cooloffSeconds: 0,
        excludeNumbers: [],
      });
      record('allocation', index, performance.now() - t0);
      await rpc(ReleaseAllocation, { scope: { accountId: authId }, allocationId });
    };
    // The API's reads of recent sessions, every five seconds: they read the history (a get of an
    // ended session, a list's count), which on FerretDB scans it, so they are sampled, not loaded.
    const probeApi = async (index: number) => {
      const id = recent[Math.floor(Math.random() * recent.length)];
      if (!id) return;
      let t0 = performance.now();
      const got = await fetch(`${api}/Masking/Session/${id}/`, { headers: { authorization: auth } });
      await got.arrayBuffer();
      if (got.status === 200) record('API get', index, performance.now() - t0);
      else recordFailure('API get', got.status);
      t0 = performance.now();
      const listed = await fetch(`${api}/Masking/Session/?limit=20`, { headers: { authorization: auth } });
      await listed.arrayBuffer();
      if (listed.status === 200) record('API list', index, performance.now() - t0);
      else recordFailure('API list', listed.status);
    };

    log(
      `soak: ${TOTAL} sessions at ${RATE}/s (lifetimes ${EXPIRY[0]}–${EXPIRY[1]} s; a call on every tenth, half with a PIN), ${bench.store ? 'FerretDB' : 'MONGO_URL'} + NATS started for this run`,
    );
    const started = Date.now();
    let next = 0;
    const running = new Set<Promise<void>>();
    const launch = (p: Promise<void>) => {
      const tracked = p
        .catch(() => {
          failed++;
        })
        .finally(() => running.delete(tracked));
      running.add(tracked);
    };
    // The seeding starts once the start window's sessions have all been created and most have
    // expired (it must not load the start window), and must end before the end window begins.
    let seeding: Promise<SeedReport> | undefined;
    let seededBy: number | undefined;
    // When the end window's first session was sent, and when its last settled: the sweeps' runs are
    // reported against it.
    let endWindowFrom: number | undefined;
    let lastReport = Date.now();
    let lastProbe = 0;
    let lastApi = 0;
    // Until every measured creation has ended and the end window's expiries were heard (or two
    // minutes past the latest of their due times).
    const done = () =>
      measuredSettled >= TOTAL && (endPending.size === 0 || Date.now() > endLatestDue + 120_000);
    while (!done()) {
      const elapsed = (Date.now() - started) / 1000;
      const due = Math.floor(elapsed * RATE);
      while (next < due) {
        const index = next++;
        if (index === TOTAL - limit) endWindowFrom = Date.now();
        if (inFlight >= MAX_IN_FLIGHT) {
          skipped++;
          settle(index);
          continue;
        }
        inFlight++;
        launch(
          runOne(index).finally(() => {
            inFlight--;
            settle(index);
          }),
        );
      }
      const measuring = Math.min(next, TOTAL - 1);
      if (Date.now() - lastProbe >= 1000) {
        lastProbe = Date.now();
        launch(probeAllocation(measuring));
      }
      if (SEED_HISTORY > 0 && !seeding && next >= 2 * limit && timeoutAt.size >= limit * 0.9) {
        log(`  seeding the history of ${SEED_HISTORY} sessions (session ${next})...`);
        seeding = seedHistory(
          store,
          bench.prefix,
          SEED_HISTORY,
          SEEDED_RETENTION_DAYS * DAY_MS + SWEEP_INTERVAL_MS,
        );
        void seeding.then(
          (r) => {
            seededBy = next;
            log(
              `  seeded in ${(r.ms / 1000).toFixed(0)} s (by session ${next}): ${Object.entries(r.inserted)
                .map(([c, n]) => `${c} ${n}`)
                .join(', ')}`,
            );
          },
          () => undefined,
        );
      }
      if (API_PROBE_EVERY_MS > 0 && Date.now() - lastApi >= API_PROBE_EVERY_MS) {
        lastApi = Date.now();
        launch(probeApi(measuring));
      }
      if (Date.now() - lastReport >= 15_000) {
        lastReport = Date.now();
        log(
          `  ${Math.round(elapsed)} s: ${created} created (${failed} failed, ${skipped} not sent: ${MAX_IN_FLIGHT} in flight), ${timeoutAt.size} expiries heard, ${inFlight} in flight`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.allSettled([...running]);
    const endWindowTo = Date.now();
    // Read now: a run that ends later would replace the record of the one that overlapped the window.
    const sweeps = await sweepRuns(nc, endWindowFrom ?? endWindowTo, endWindowTo);
    if (SEED_HISTORY > 0) {
      if (!seeding) throw new Error('the history was never seeded: the start window did not end in time');
      await seeding;
      if (seededBy === undefined || seededBy >= TOTAL - limit)
        log(
          `  NOTE: the seeding ended after the end window began (session ${seededBy}): its inserts loaded it`,
        );
    }
    const seconds = (Date.now() - started) / 1000;
    // The API's reads once the load has stopped, on the whole history: what one get and one list cost.
    const quiet: string[] = [];
    for (const [what, url] of [
      ['get', `${api}/Masking/Session/${recent[recent.length - 1] ?? ''}/`],
      ['list', `${api}/Masking/Session/?limit=20`],
    ] as const) {
      const t0 = performance.now();
      const res = await fetch(url, { headers: { authorization: auth } });
      await res.arrayBuffer();
      quiet.push(`${what} ${(performance.now() - t0).toFixed(0)} ms (HTTP ${res.status})`);
    }
    for (const [id, due] of dueAt) {
      const heard = timeoutAt.get(id);
      if (heard !== undefined) record('expiry lag', due.index, heard - due.at);
      const published = endPublishedAt.get(id);
      if (heard !== undefined && published !== undefined) {
        record('callback from event', due.index, Math.max(0, heard - published));
      }
    }
    for (const [id, answered] of pinAnsweredAt) {
      const heard = pinCallbackAt.get(id);
      if (heard !== undefined) record('callback delivery', answered.index, Math.max(0, heard - answered.at));
    }

    const counts: string[] = [];
    for (const [db, collection] of [
      ['session_service', 'sessions'],
      ['session_service', 'ended_sessions'],
      ['session_service', 'call_events'],
      ['number_pool', 'holds'],
      ['number_pool', 'allocations'],
      ['pin_auth', 'pin_registrations'],
      ['callback_dispatcher', 'callback_attempts'],
      ['pin_auth', 'pin_attempts'],
    ] as const) {
      let n = 0;
      const dbHandle = store.useDb(`${bench.prefix}_${db}`).db!;
      for (const name of await collectionsOf(dbHandle, { collection, byDay: BY_DAY[collection] })) {
        n += await dbHandle.collection(name).estimatedDocumentCount();
      }
      counts.push(`${collection} ${n}`);
    }

    // What the sweeps left past the retention period: 0 when they kept up.
    const pastRetention: string[] = [];
    if (SEED_HISTORY > 0) {
      const cutoff = new Date(Date.now() - SEEDED_RETENTION_DAYS * DAY_MS);
      for (const [db, collection, field] of [
        ['session_service', 'ended_sessions', 'expiredAt'],
        ['callback_dispatcher', 'callback_attempts', 'at'],
        ['pin_auth', 'pin_attempts', 'at'],
      ] as const) {
        let n = 0;
        const dbHandle = store.useDb(`${bench.prefix}_${db}`).db!;
        for (const name of await collectionsOf(dbHandle, { collection, byDay: BY_DAY[collection] })) {
          n += await dbHandle.collection(name).countDocuments({ [field]: { $lt: cutoff } });
        }
        pastRetention.push(`${collection} ${n}`);
      }
      const numbersPastRedaction = await store
        .useDb(`${bench.prefix}_session_service`)
        .collection('ended_session_parties')
        .countDocuments({ endedAt: { $lt: new Date(Date.now() - REDACTED_AFTER_MS) } });
      pastRetention.push(`ended sessions' numbers past the redaction period ${numbersPastRedaction}`);
    }

    log('');
    log(
      `${created} sessions created in ${seconds.toFixed(0)} s (${failed} failed, ${skipped} not sent); store at the end: ${counts.join(', ')}`,
    );
    log('');
    log(
      'measure              | start p50 / p99 (ms) | end p50 / p99 (ms) | end ÷ start (p99) | target | samples',
    );
    const targets: Record<Measure, string> = {
      create: '≤ 1.5',
      'answer webhook': '≤ 1.5',
      'PIN verify (webhook)': '≤ 1.5',
      allocation: '≤ 1.5',
      'callback delivery': '≤ 1.5',
      'callback from event': '≤ 1.5',
      'expiry lag': '≤ 1.5',
      'API get': 'reported',
      'API list': 'reported',
    };
    for (const measure of Object.keys(targets) as Measure[]) {
      const all = samples.get(measure) ?? [];
      const start = all.filter((s) => s.index < limit).map((s) => s.ms);
      const end = all.filter((s) => s.index >= TOTAL - limit && s.index < TOTAL).map((s) => s.ms);
      if (start.length === 0 || end.length === 0) {
        log(`${measure.padEnd(20)} | no samples at ${start.length === 0 ? 'the start' : 'the end'}`);
        continue;
      }
      const ratio = pct(end, 99) / Math.max(0.001, pct(start, 99));
      log(
        `${measure.padEnd(20)} | ${`${pct(start, 50).toFixed(1)} / ${pct(start, 99).toFixed(1)}`.padStart(20)} | ${`${pct(end, 50).toFixed(1)} / ${pct(end, 99).toFixed(1)}`.padStart(18)} | ${ratio.toFixed(2).padStart(17)} | ${targets[measure].padStart(6)} | ${start.length} / ${end.length}`,
      );
    }
    for (const [measure, statuses] of failures) {
      const answered = samples.get(measure)?.length ?? 0;
      log(
        `${measure}: ${statuses.length} of ${statuses.length + answered} probes failed (status ${[...new Set(statuses)].join(', ')})`,
      );
    }
    log(`API reads after the load, on the whole history: ${quiet.join(', ')}`);
    if (pastRetention.length > 0)
      log(
        `past the retention period (${SEEDED_RETENTION_DAYS} days) at the end, left by the sweeps: ${pastRetention.join(', ')}`,
      );
    if (sweeps.length > 0)
      log(
        `history sweeps' last runs (the end window: the last ${((endWindowTo - (endWindowFrom ?? endWindowTo)) / 1000).toFixed(0)} s): ${sweeps.join('; ')}`,
      );
    log('');
    log(
      'API list: the first page merges live and ended sessions, and its count and the ended side read the history (on FerretDB a scan of it): it grows with history by design; the hot paths do not.',
    );
  } finally {
    await nc.close();
    await store.close();
    await bench.stop();
    await receiver.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

/**
 * Each sweep's last timed run, as SweepTurns keeps it in KV (its end and length), and whether it
 * overlapped the end window; and a run still going at the window's end (a turn taken after the last
 * run ended). A sweep over a large history loads the store while it runs.
 */
async function sweepRuns(nc: NatsConnection, from: number, to: number): Promise<string[]> {
  const kv = await nc.jetstream().views.kv(SWEEP_TURNS_BUCKET);
  // Every key first: nats.js ends a key listing once it has delivered its batch, dropping keys that
  // arrive while the loop awaits a read.
  const keys: string[] = [];
  for await (const key of await kv.keys()) keys.push(key);
  const read = async <T>(key: string) => {
    const entry = await kv.get(key);
    return entry ? kvDecode<T>(entry.value) : null;
  };
  const runs: string[] = [];
  // `<task>.<window>` and `<task>.last` (the store's baton has no dot); steps inside runs apart.
  const steps = keys.filter((k) => k.startsWith(STEP_PREFIX) && !k.endsWith('.backlog'));
  const tasks = new Set(
    keys
      .filter((k) => k.includes('.') && !k.startsWith(STEP_PREFIX))
      .map((k) => k.slice(0, k.lastIndexOf('.'))),
  );
  for (const key of steps) {
    const at = (await read<{ at: number }>(key))?.at ?? 0;
    if (at >= from && at < to) {
      const step = key.slice(STEP_PREFIX.length, key.lastIndexOf('.'));
      runs.push(`${step} (a step of a run) taken ${((to - at) / 1000).toFixed(0)} s before the end`);
    }
  }
  for (const task of tasks) {
    const last = await read<{ endedAt: number; ms: number }>(`${task}.last`);
    // The first turn taken since the last run ended started the run under way, if any (later turns
    // joined it).
    let runStart = Number.POSITIVE_INFINITY;
    for (const key of keys.filter((k) => k.startsWith(`${task}.`) && k !== `${task}.last`)) {
      const at = (await read<{ at: number }>(key))?.at ?? 0;
      if (at > (last?.endedAt ?? 0)) runStart = Math.min(runStart, at);
    }
    if (last) {
      const start = last.endedAt - last.ms;
      const overlap = Math.max(0, Math.min(last.endedAt, to) - Math.max(start, from));
      runs.push(
        `${task} ${(last.ms / 1000).toFixed(1)} s, ended ${((to - last.endedAt) / 1000).toFixed(0)} s before the end (${overlap > 0 ? `${(overlap / 1000).toFixed(0)} s of it in the end window` : 'not in the end window'})`,
      );
    }
    if (runStart < to) {
      runs.push(`${task} running since ${((to - runStart) / 1000).toFixed(0)} s before the end`);
    }
  }
  return runs.sort();
}
