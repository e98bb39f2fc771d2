import { pct } from '../../bench/support/bench-system';
import { collectionsOf } from '../../bench/support/history-seeder';
import { CallbackReceiver } from '../../e2e/support/callback-receiver';
import { ChaosLoad, type LoadOptions } from './chaos-load';
import { ChaosSystem } from './chaos-system';

export interface ChaosOptions {
  load: LoadOptions;
  /** Load before the first fault, and after each fault before the next. */
  baselineMs: number;
  settleMs: number;
  /** After settleMs, how much longer load runs before the next fault while creates are not yet steady. */
  steadyWithinMs: number;
  /** How long a killed NATS node stays down, and the store stays paused. */
  natsDownMs: number;
  storePauseMs: number;
  /** How long the final accounting waits for expiries, reapers and callbacks. */
  drainTimeoutMs: number;
  log: (line: string) => void;
}

export interface FaultReport {
  fault: string;
  api5xx: number;
  /** 5xx answered to requests sent after the fault's end, before the next fault: its aftermath (breakers it opened, say). */
  api5xxAfter: number;
  apiNoAnswer: number;
  calls: number;
  callsValid: number;
  callsUnavailable: number;
  callsInvalid: number;
  createsFailed: number;
  /** From the fault's end until creates are back within 1.5 × the baseline p50 (null: not seen). */
  recoveryMs: number | null;
  /** How long load ran after the fault's end before the next fault (or the end): what recoveryMs looked at. */
  observedMs: number;
  /** From the fault's start, per 2 s of first create attempts sent: their p50 in ms (5xx marked), for the shape of a slow return. */
  trace: string;
  notes: string[];
}

export interface ChaosReport {
  faults: FaultReport[];
  sessionsCreated: number;
  sessionsLost: number;
  doubleAllocations: number;
  orphanHolds: number;
  orphanPins: number;
  callbacksExpected: number;
  callbacksLost: number;
  callbacksDuplicated: number;
  /** The copies, by the fault they arrived during or after (or the baseline) and event name: where to look. */
  duplicatesBy: string[];
  /** Deliveries of one logical event under two different event ids (must be 0). */
  duplicatesWithDifferentIds: number;
  baselineCreateP50Ms: number;
  /** The same over the baseline's first half (before any session expired) and its second: for comparison. */
  baselineHalvesP50Ms: [number, number];
  gatewayDrains: string[];
  errors: string[];
  /** Every service error line, grouped by service, code, type and message: how many of each. */
  errorKinds: string[];
  /** Samples, to find the cause. */
  doubles: string[];
  orphans: string[];
  serverErrors: string[];
  /** Creates given up on: when, under which fault, and the last answer. */
  failedCreates: string[];
  /** When each replica of the rolling restart stopped. */
  timeline?: string[];
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The chaos run: the system as production runs it (three NATS nodes, two replicas of every
 * service, a balancer), steady mixed load, and one fault at a time with load running, then an
 * accounting of what every client and every customer endpoint saw and what the store holds.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const { log } = options;
  const receiver = await CallbackReceiver.start();
  // A boot that fails must not leave the receiver listening: jest would wait on it for ever.
  const system = await ChaosSystem.start(
    (service): Record<string, string> => ({
      // Store commands give up after 3 s, so the 10 s store pause makes writes that time out and are
      // carried out later routine: what they leave must still be cleaned up (the invariants below).
      STORE_COMMAND_TIMEOUT_MS: '3000',
      ...(service === 'callback-dispatcher'
        ? { CALLBACK_RETRY_SCHEDULE_SECONDS: '1,2,4,8,15,30', CALLBACK_TIMEOUT_MS: '3000' }
        : service === 'pin-auth'
          ? { NUMBER_MAX_FAILURES: '100000', REAPER_INTERVAL_MS: '2000' }
          : service === 'session-service'
            ? { EXPIRY_POLL_MS: '2000', ORPHAN_AGE_MS: '15000' }
            : service === 'number-pool'
              ? { REAPER_INTERVAL_MS: '2000' }
              : service === 'gateway'
                ? // Its shutdown steps are info lines: a drain that has to be killed shows where it stopped.
                  { LOG_LEVEL: 'info' }
                : {}),
    }),
  ).catch(async (err: unknown) => {
    await receiver.stop();
    throw err;
  });
  const gatewayDrains: string[] = [];
  const timeline: string[] = [];
  const load = new ChaosLoad(system, receiver, options.load);
  const windows: Array<{ fault: string; start: number; end: number }> = [];
  let loadEnd = 0;
  try {
    await load.setup();
    log(`system up: 3 NATS nodes, 2 replicas of every service, balancer at ${system.url}`);
    load.start();
    await wait(options.baselineMs);

    const fault = async (name: string, act: () => Promise<void>) => {
      log(`fault: ${name}`);
      load.phase = name;
      const start = Date.now();
      await act();
      const end = Date.now();
      windows.push({ fault: name, start, end });
      load.phase = `after ${name}`;
      await wait(options.settleMs);
      // The next fault waits until creates are steady again (or a bound), so each fault's time back
      // to steady is its own, not cut off by the run's end nor stretched by the next fault.
      // Steady means now, not once since the fault: a clean window early on (creates without PINs
      // going through) while a breaker the fault opened still refused the rest let the next fault
      // start inside this one's aftermath, and its 5xx were counted as the next fault's.
      const baselineP50 = baselineCreateP50(load);
      while (Date.now() - end < options.settleMs + options.steadyWithinMs) {
        const now = Date.now();
        if (recovery(load, end, now, baselineP50) !== null && !failedSince(load, now - QUIET_MS)) break;
        await wait(250);
      }
    };

    await fault('kill -9 a NATS node, then bring it back', async () => {
      const node = system.natsNodes[1]!;
      await node.kill();
      await wait(options.natsDownMs);
      await node.start();
    });
    await fault('rolling restart of every service (SIGTERM)', () =>
      system.rollingRestart((name, exit) => {
        timeline.push(
          `${new Date().toISOString()} ${name} stopped (code ${exit.code}); its replacement starts`,
        );
        // A replica that had to be killed: what it wrote last says where its shutdown stopped (in
        // the drain's own line too, so a failed assertion shows it).
        const stuck = exit.code === 0 ? '' : `; its last lines:\n${exit.lastLines.slice(-6).join('\n')}`;
        if (name.startsWith('gateway')) gatewayDrains.push(`${name} exited with code ${exit.code}${stuck}`);
        if (exit.code !== 0) for (const line of exit.lastLines) timeline.push(`  ${name}: ${line}`);
      }),
    );
    await fault(`pause the store for ${options.storePauseMs / 1000} s`, () =>
      system.pauseStore(options.storePauseMs),
    );
    await fault('kill -9 a dispatcher replica', async () => {
      await system.stopReplica('callback-dispatcher#1', 'SIGKILL');
      await system.startReplica('callback-dispatcher', 1);
    });
    await fault('kill -9 a session-service replica mid-creates', async () => {
      while (load.inFlightCreates === 0) await wait(5);
      await system.stopReplica('session-service#1', 'SIGKILL');
      await system.startReplica('session-service', 1);
    });
    load.phase = 'end';
    loadEnd = Date.now();
    await load.stop();
    log(`load stopped: ${load.sessions.length} sessions created, ${load.calls.length} calls`);
    const report = await account(system, load, receiver, windows, loadEnd, gatewayDrains, options);
    return { ...report, timeline };
  } finally {
    await load.stop();
    await system.stop();
    await receiver.stop();
  }
}

async function account(
  system: ChaosSystem,
  load: ChaosLoad,
  receiver: CallbackReceiver,
  windows: Array<{ fault: string; start: number; end: number }>,
  loadEnd: number,
  gatewayDrains: string[],
  options: ChaosOptions,
): Promise<ChaosReport> {
  const deadline = Date.now() + options.drainTimeoutMs;
  const ids = load.sessions.map((s) => s.id);

  // Every session ends (they are short-lived), the reapers run, the callbacks arrive.
  const stored = await system.withStore(async (db) => {
    /**
     * A count while the system settles: a command the busy store gives up ("interrupted", seen once
     * after a run) is asked again until the deadline, not taken for the run's failure.
     */
    const count = async (collection: { countDocuments(filter: object): Promise<number> }, filter: object) => {
      for (;;) {
        try {
          return await collection.countDocuments(filter);
        } catch (err) {
          if (Date.now() >= deadline) throw err;
          await wait(500);
        }
      }
    };
    const sessions = db('session-service').collection('sessions');
    while (Date.now() < deadline && (await count(sessions, { status: 'active' })) > 0) await wait(500);
    const holds = db('number-pool').collection('holds');
    const pins = db('pin-auth').collection('pin_registrations');
    let orphanHolds = 0;
    let orphanPins = 0;
    do {
      orphanHolds = await count(holds, { liveMarker: 'L' });
      orphanPins = await count(pins, { liveMarker: 'L' });
      if (orphanHolds + orphanPins === 0) break;
      await wait(500);
    } while (Date.now() < deadline);
    // Live sessions and the history (an ended session moves there).
    // The history: a collection per day of the end, and the one kept before days.
    const history = (
      await collectionsOf(db('session-service').db!, { collection: 'ended_sessions', byDay: 'expiredAt' })
    ).map((name) => db('session-service').collection(name));
    const projection = {
      _id: 1,
      virtualNumber: 1,
      firstParty: 1,
      secondParty: 1,
      createdAt: 1,
      expiresAt: 1,
      expiredAt: 1,
      status: 1,
    };
    // An ended session's record holds its parties' digests; their numbers are kept apart.
    const kept = new Map(
      (await db('session-service').collection('ended_session_parties').find({}).toArray()).map((p) => [
        String(p._id),
        p,
      ]),
    );
    const withNumbers = <D extends { _id: unknown }>(d: D) => {
      const p = kept.get(String(d._id));
      return p ? { ...d, firstParty: p.firstParty, secondParty: p.secondParty } : d;
    };
    // One per session: one caught between its move's two writes is in both.
    const docs = [
      ...new Map(
        [
          ...(await sessions.find({}, { projection }).toArray()),
          ...(await Promise.all(history.map((c) => c.find({}, { projection }).toArray())))
            .flat()
            .map(withNumbers),
        ].map((d) => [String(d._id), d]),
      ).values(),
    ];
    // What each leftover hold belonged to, to find the cause.
    const orphans: string[] = [];
    for (const h of await holds.find({ liveMarker: 'L' }).limit(5).toArray()) {
      const record = await db('number-pool').collection('allocations').findOne({ _id: h.allocationId });
      let owner = await sessions.findOne({ allocationId: h.allocationId });
      for (const c of history) owner ??= await c.findOne({ allocationId: h.allocationId });
      orphans.push(
        `hold ${String(h._id)} of allocation ${String(h.allocationId)} made ${new Date(h.createdAt).toISOString()}: record ${record ? `released ${String(record.releasedAt)}` : 'none'}; session ${owner ? `${String(owner._id)} ${String(owner.status)}${owner.abandoned ? ' (abandoned)' : ''}` : 'none'}`,
      );
    }
    return { docs, orphanHolds, orphanPins, orphans };
  });
  const byId = new Map(stored.docs.map((d) => [String(d._id), d]));
  const sessionsLost = ids.filter((id) => !byId.has(id)).length;

  // One party never holds one number in two live sessions at once. A session is live from its
  // creation until it ended or was due to end, whichever came first (its number is given back at
  // its expiry time; the record is marked a moment later).
  let doubleAllocations = 0;
  const doubles: string[] = [];
  const byPair = new Map<string, Array<{ id: string; from: number; to: number }>>();
  for (const d of stored.docs) {
    for (const party of [d.firstParty, d.secondParty]) {
      if (!party) continue;
      const key = `${d.virtualNumber}|${party}`;
      const to = Math.min(
        d.expiredAt ? new Date(d.expiredAt).getTime() : Number.POSITIVE_INFINITY,
        new Date(d.expiresAt).getTime(),
      );
      byPair.set(key, [
        ...(byPair.get(key) ?? []),
        { id: String(d._id), from: new Date(d.createdAt).getTime(), to },
      ]);
    }
  }
  for (const spans of byPair.values()) {
    spans.sort((a, b) => a.from - b.from);
    for (let i = 1; i < spans.length; i++) {
      const [a, b] = [spans[i - 1]!, spans[i]!];
      if (b.from < a.to) {
        doubleAllocations += 1;
        if (doubles.length < 5) {
          doubles.push(
            `${a.id} [${new Date(a.from).toISOString()}, ${new Date(a.to).toISOString()}) and ${b.id} from ${new Date(b.from).toISOString()}`,
          );
        }
      }
    }
  }

  // Every session that was created and ended was announced to its callback URL.
  const timeouts = () =>
    new Set(
      receiver.received
        .filter((r) => r.params.EventName === 'SessionTimeout')
        .map((r) => r.params.SessionUUID),
    );
  const expected = ids.filter((id) => byId.get(id)?.status === 'expired');
  while (Date.now() < deadline && expected.some((id) => !timeouts().has(id))) await wait(500);
  const seen = timeouts();
  const callbacksLost = expected.filter((id) => !seen.has(id)).length;
  const byEventId = new Map<string, number>();
  const idsPerEvent = new Map<string, Set<string>>();
  for (const r of receiver.received) {
    const eventId = String(r.headers['x-maskline-event-id'] ?? '');
    byEventId.set(eventId, (byEventId.get(eventId) ?? 0) + 1);
    const logical = `${r.params.SessionUUID}|${r.params.EventName}|${r.params.SequenceNumber}`;
    idsPerEvent.set(logical, new Set([...(idsPerEvent.get(logical) ?? []), eventId]));
  }
  const callbacksDuplicated = [...byEventId.values()].reduce((n, c) => n + c - 1, 0);
  const firstSeen = new Set<string>();
  const copies = new Map<string, number>();
  for (const r of [...receiver.received].sort((a, b) => a.at - b.at)) {
    const eventId = String(r.headers['x-maskline-event-id'] ?? '');
    if (!firstSeen.has(eventId)) {
      firstSeen.add(eventId);
      continue;
    }
    const during = windows.filter((w) => w.start <= r.at).at(-1)?.fault ?? 'baseline';
    const key = `${during} | ${r.params.EventName ?? '?'}`;
    copies.set(key, (copies.get(key) ?? 0) + 1);
  }
  const duplicatesBy = [...copies].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} × ${k}`);
  const duplicatesWithDifferentIds = [...idsPerEvent.values()].filter((s) => s.size > 1).length;

  const baselineP50 = baselineCreateP50(load);
  // A request belongs to the fault it was in flight during, whatever phase it started in: one sent
  // a moment before a replica is killed gets no answer because of the kill.
  const faultOf = (a: { phase: string; at: number; ms: number }) =>
    windows.find((w) => a.at <= w.end && a.at + a.ms >= w.start)?.fault ?? a.phase;
  const faults: FaultReport[] = windows.map((w, i) => {
    const observedUntil = windows[i + 1]?.start ?? loadEnd;
    const during = load.api.filter((a) => faultOf(a) === w.fault);
    const calls = load.calls.filter((c) => faultOf(c) === w.fault);
    return {
      fault: w.fault,
      api5xx: during.filter((a) => a.status >= 500).length,
      api5xxAfter: load.api.filter((a) => faultOf(a) === `after ${w.fault}` && a.status >= 500).length,
      apiNoAnswer: during.filter((a) => a.status === 0).length,
      calls: calls.length,
      callsValid: calls.filter((c) => c.valid).length,
      callsUnavailable: calls.filter((c) => c.unavailable).length,
      callsInvalid: calls.filter((c) => !c.valid).length,
      createsFailed: load.failedCreates.filter((f) => faultOf(f) === w.fault).length,
      recoveryMs: recovery(load, w.end, observedUntil, baselineP50),
      observedMs: observedUntil - w.end,
      trace: createTrace(load, w.start, observedUntil),
      notes: [...new Set(calls.filter((c) => c.error).map((c) => c.error!))].slice(0, 3),
    };
  });
  return {
    faults,
    sessionsCreated: ids.length,
    sessionsLost,
    doubleAllocations,
    orphanHolds: stored.orphanHolds,
    orphanPins: stored.orphanPins,
    callbacksExpected: expected.length,
    callbacksLost,
    callbacksDuplicated,
    duplicatesBy,
    duplicatesWithDifferentIds,
    baselineCreateP50Ms: baselineP50,
    baselineHalvesP50Ms: [baselineCreateP50(load, 'first'), baselineCreateP50(load, 'second')],
    gatewayDrains,
    errors: system.errors.slice(0, 20),
    errorKinds: errorKinds(system.errors),
    doubles,
    orphans: stored.orphans,
    failedCreates: load.failedCreates.map(
      (f) => `${new Date(f.at).toISOString()} +${f.ms} ms ${faultOf(f)}: last status ${f.status}`,
    ),
    serverErrors: load.api
      .filter((a) => a.status >= 500)
      .map(
        (a) =>
          `${new Date(a.at).toISOString()} +${a.ms} ms ${faultOf(a)}: ${a.kind} ${a.status} ${a.detail ?? ''}`,
      )
      .slice(0, 60),
  };
}

/**
 * Created sessions' p50 over the baseline (or one half of it). The baseline outlasts a session's
 * life, so expiries and their callbacks are in it, as in every later window: its first half alone
 * (nothing expiring yet) made a reference later windows rarely reached without any fault, and its
 * second half has been up to 7 × slower than the first (not diagnosed), so the reference is both.
 */
function baselineCreateP50(load: ChaosLoad, part: 'all' | 'first' | 'second' = 'all'): number {
  const baseline = load.api.filter((a) => a.phase === 'baseline' && a.kind === 'create' && !a.retry);
  if (baseline.length === 0) return 0;
  const middle = (Math.min(...baseline.map((a) => a.at)) + Math.max(...baseline.map((a) => a.at))) / 2;
  const created = baseline.filter(
    (a) => a.status === 201 && (part === 'all' || (part === 'second') === a.at >= middle),
  );
  return created.length > 0
    ? pct(
        created.map((a) => a.ms),
        50,
      )
    : 0;
}

/** `+0s 210 | +2s 850 (2×5xx) | …`: first create attempts per 2 s from `from`: the created ones' p50, and how many 5xx and 4xx. */
function createTrace(load: ChaosLoad, from: number, until: number): string {
  const creates = load.api.filter((a) => a.kind === 'create' && !a.retry && a.at >= from && a.at < until);
  const parts: string[] = [];
  for (let t = from; t < until; t += 2000) {
    const window = creates.filter((a) => a.at >= t && a.at < t + 2000);
    const failed = window.filter((a) => a.status === 0 || a.status >= 500).length;
    const refused = window.filter((a) => a.status >= 400 && a.status < 500).length;
    const created = window.filter((a) => a.status === 201);
    const p50 =
      created.length > 0
        ? pct(
            created.map((a) => a.ms),
            50,
          ).toFixed(0)
        : '-';
    const marks = [failed > 0 ? `${failed}×5xx` : '', refused > 0 ? `${refused}×4xx` : ''].filter(Boolean);
    parts.push(
      `+${((t - from) / 1000).toFixed(0)}s ${p50}${marks.length > 0 ? ` (${marks.join(', ')})` : ''}`,
    );
  }
  return parts.join(' | ');
}

/** How long after a window a create sent in it may take to be answered and still be seen. */
const ANSWER_SLACK_MS = 3000;

/** How long the API must have answered every request without a 5xx (or silence) to be steady now. */
const QUIET_MS = 5000;

/** Whether a request sent since `since` was answered with a 5xx or not at all. */
function failedSince(load: ChaosLoad, since: number): boolean {
  return load.api.some((a) => a.at >= since && (a.status === 0 || a.status >= 500));
}

/**
 * From `after` until the first 2-second window of creates sent before `until` (less a slack for their
 * answers) in which every create was answered, none with a 5xx, and their p50 is within 1.5 × the
 * baseline's; null when there is none.
 */
function recovery(load: ChaosLoad, after: number, until: number, baselineP50: number): number | null {
  // First attempts only: a retry under the same key may be answered from what its first attempt did.
  const creates = load.api.filter((a) => a.kind === 'create' && !a.retry && a.at >= after);
  for (let t = after; t + 2000 + ANSWER_SLACK_MS <= until; t += 250) {
    const window = creates.filter((a) => a.at >= t && a.at < t + 2000);
    if (window.some((a) => a.status === 0 || a.status >= 500)) continue;
    // Created ones only: a refusal (a pool exhausted, say) is answered fast and says nothing of speed.
    const created = window.filter((a) => a.status === 201);
    if (created.length < 3) continue;
    if (
      pct(
        created.map((a) => a.ms),
        50,
      ) <=
      1.5 * Math.max(baselineP50, 1)
    ) {
      return t - after;
    }
  }
  return null;
}

export function printReport(report: ChaosReport, log: (line: string) => void): void {
  log('');
  log(
    '| fault | API 5xx | API 5xx after it | no answer | calls (valid / unavailable / invalid) | creates failed | back to steady |',
  );
  log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const f of report.faults) {
    log(
      `| ${f.fault} | ${f.api5xx} | ${f.api5xxAfter} | ${f.apiNoAnswer} | ${f.calls} (${f.callsValid} / ${f.callsUnavailable} / ${f.callsInvalid}) | ${f.createsFailed} | ${f.recoveryMs === null ? `not within ${(f.observedMs / 1000).toFixed(0)} s` : `${(f.recoveryMs / 1000).toFixed(1)} s`} |`,
    );
  }
  log('');
  log('| whole run | measured | target |');
  log('| --- | --- | --- |');
  log(`| sessions created | ${report.sessionsCreated} | |`);
  log(`| sessions lost | ${report.sessionsLost} | 0 |`);
  log(`| double allocations | ${report.doubleAllocations} | 0 |`);
  log(
    `| orphaned numbers (live holds) / PINs after the reapers | ${report.orphanHolds} / ${report.orphanPins} | 0 / 0 |`,
  );
  log(
    `| callbacks lost (SessionTimeout of ${report.callbacksExpected} ended sessions) | ${report.callbacksLost} | 0 |`,
  );
  log(`| callbacks duplicated (same event id) | ${report.callbacksDuplicated} | reported |`);
  log(`| one event under two event ids | ${report.duplicatesWithDifferentIds} | 0 |`);
  log(
    `| baseline create p50 (first half; second half) | ${report.baselineCreateP50Ms} ms (${report.baselineHalvesP50Ms[0]}; ${report.baselineHalvesP50Ms[1]}) | |`,
  );
  for (const d of report.gatewayDrains) log(`graceful drain: ${d}`);
  for (const f of report.faults) for (const n of f.notes) log(`note (${f.fault}): ${n}`);
  for (const f of report.faults) log(`creates' p50 ms per 2 s from the start of "${f.fault}": ${f.trace}`);
  for (const d of report.doubles) log(`double allocation: ${d}`);
  for (const o of report.orphans) log(`orphan: ${o}`);
  for (const t of report.timeline ?? []) log(`rolling restart: ${t}`);
  for (const e of report.serverErrors) log(`5xx: ${e}`);
  for (const e of report.failedCreates) log(`create given up: ${e}`);
  for (const e of report.errors) log(`service error: ${e}`);
  for (const k of report.errorKinds) log(`service errors by kind: ${k}`);
  for (const d of report.duplicatesBy)
    log(`callbacks duplicated, by the fault they arrived during or after: ${d}`);
}

/** `[replica] {json}` error lines grouped by service, code, error type and message (ids and times left out). */
function errorKinds(lines: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const service = /^\[([a-z-]+)#/.exec(line)?.[1] ?? '?';
    const code = /"code":"([^"]+)"/.exec(line)?.[1] ?? '-';
    const type = /"err":\{"type":"([^"]+)"/.exec(line)?.[1] ?? '-';
    const message = (/"message":"([^"]{0,80})/.exec(line)?.[1] ?? /"msg":"([^"]{0,80})/.exec(line)?.[1] ?? '')
      .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<id>')
      .replace(/\d+/g, 'N');
    const key = `${service} ${code} ${type}: ${message}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} × ${k}`);
}
