/**
 * One call-router replica's routing index at one size, in its own process (started by
 * routing-index.bench.ts with --expose-gc, so heap figures are after a forced GC): loads the
 * index, then answers calls on the parent's word, one round at a time, so that rounds at both
 * sizes interleave and a busy moment on the machine falls on both alike.
 */
import { performance } from 'node:perf_hooks';
import {
  RecordAuthorizedCaller,
  type CallAction,
  type RouteCall,
  type RpcContract,
  type RpcParsedRequestOf,
} from '@maskline/contracts';
import type { NumberRoutingCache, RpcClient } from '@maskline/messaging';
import type { MetricsService } from '@maskline/observability';
import type { Logger } from 'pino';
import type { CallEvents } from '../src/calls/call-events';
import type { CallState } from '../src/calls/call-state';
import { InboundCallDecider } from '../src/routing/inbound-call-decider';
import { OwnNumbers } from '../src/routing/own-numbers';
import { RoutingIndex } from '../src/routing/routing-index';
import type { RoutingIndexFeeder } from '../src/routing/routing-index.feeder';
import type { ProxyInterceptor } from '../src/proxy/proxy-interceptor';
import type { ProxyOutOfSession } from '../src/proxy/proxy-out-of-session';
import { SessionFinder } from '../src/routing/session-finder';
import { CALLS_PER_ROUND, type LookupKind, type ReplicaReply, type ReplicaRequest } from './replica-protocol';
import { sessionAt, sessionWorld, type SessionWorld } from './routing-sessions';

/** Where the registered party of a single-party session was last bound (the call-state port's answer). */
const BOUND = '+15005550006';
const PAGE = 1000;

const gc = (globalThis as { gc?: () => void }).gc;
const send = (reply: ReplicaReply) => process.send?.(reply);

/** Heap in use plus typed-array storage (which lives outside the JS heap), after full collections. */
function memoryInUse(): number {
  if (!gc) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** As a value arrives from NATS: parsed from JSON (flat strings, an object of its own each). */
function overTheWire<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The p-th percentile (nearest rank) of the values. */
function percentile(values: Float64Array, p: number): number {
  const sorted = values.slice().sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * As RoutingIndexFeeder loads a snapshot: page by page (each as it comes off the wire), noting
 * what it saw, then dropping the rest. Only the index's own work is timed.
 */
function loadIndex(world: SessionWorld): { index: RoutingIndex; loadMs: number } {
  const index = new RoutingIndex();
  const seen = new Set<string>();
  let loadMs = 0;
  for (let from = 0; from < world.sessions; from += PAGE) {
    const page = overTheWire(
      Array.from({ length: Math.min(PAGE, world.sessions - from) }, (_, j) => sessionAt(world, from + j)),
    );
    const t0 = performance.now();
    for (const s of page) {
      seen.add(s.sessionId);
      index.upsert(s);
    }
    loadMs += performance.now() - t0;
  }
  const t0 = performance.now();
  index.retainOnly((id) => seen.has(id));
  loadMs += performance.now() - t0;
  index.ready = true;
  return { index, loadMs };
}

async function main() {
  const size = Number(process.argv[2]);
  const world = sessionWorld(size, Number(process.argv[3]));

  // The calls to answer, chosen before measuring so they are not counted as the index's memory.
  const calls = Array.from({ length: CALLS_PER_ROUND }, (_, k) => {
    const s = sessionAt(world, Math.floor((((k * 2654435761) % 4294967296) / 4294967296) * size));
    const callerIsFirst = k % 2 === 0 || s.secondParty === null;
    const request: RpcParsedRequestOf<typeof RouteCall> = {
      provider: 'plivo',
      stage: 'answer',
      virtualNumber: s.virtualNumber,
      accountId: s.accountId,
      callId: `CALL-${k}`,
      caller: (callerIsFirst ? s.firstParty : s.secondParty) as string,
      context: null,
    };
    return { request, expect: (callerIsFirst ? (s.secondParty ?? BOUND) : s.firstParty) as string };
  }).map(overTheWire);

  const before = memoryInUse();
  const { index, loadMs } = loadIndex(world);
  const indexBytes = memoryInUse() - before;
  send({ type: 'loaded', sessions: index.size, numbers: world.numbers, indexBytes, loadMs });

  let storeReads = 0;
  let wrongDecisions = 0;
  const rpc = {
    request: async (contract: RpcContract) => {
      if (contract.subject === RecordAuthorizedCaller.subject) return {};
      storeReads++;
      return { sessions: [], session: null, fallbackAnswerUrl: null };
    },
  } as unknown as RpcClient;
  // Every session event applied: what the index lacks does not exist.
  const caughtUp = { caughtUp: async () => true } as unknown as RoutingIndexFeeder;
  const finder = new SessionFinder(index, caughtUp, rpc, () => Date.now());
  const events = { step: async () => undefined } as unknown as CallEvents;
  const state = {
    remember: async () => undefined,
    bind: async () => undefined,
    boundTo: async () => BOUND,
    boundLately: async () => false,
  } as unknown as CallState;
  const logger = { warn: () => undefined } as unknown as Logger;
  const metrics = { counter: () => ({ inc: () => undefined }) } as unknown as MetricsService;
  // No number here is one of Maskline's calling in: none is looked up as one.
  const own = new OwnNumbers(finder, { get: async () => null } as unknown as NumberRoutingCache, state);
  const decider = new InboundCallDecider(
    finder,
    own,
    rpc,
    events,
    state,
    noIntercept,
    noOutOfSession,
    logger,
    metrics,
  );

  const dialed = (actions: CallAction[]) => actions.find((a) => a.type === 'dial');
  const samples: Record<LookupKind, number[]> = { answer: [], number: [] };
  const roundsSeen: Record<LookupKind, number> = { answer: 0, number: 0 };

  async function round(kind: LookupKind): Promise<number> {
    const times = new Float64Array(calls.length);
    const offset = (roundsSeen[kind] * 7919) % calls.length;
    for (let k = 0; k < calls.length; k++) {
      const call = calls[(k + offset) % calls.length];
      if (kind === 'answer') {
        const t = performance.now();
        const actions = await decider.decide(call.request);
        times[k] = performance.now() - t;
        const dial = dialed(actions);
        if (!dial || dial.type !== 'dial' || dial.number !== call.expect) wrongDecisions++;
      } else {
        const t = performance.now();
        const sessions = await finder.onNumber(call.request.virtualNumber, call.request.accountId);
        times[k] = performance.now() - t;
        if (sessions.length === 0) wrongDecisions++;
      }
    }
    // The first round of each kind warms the code up and is not counted.
    if (roundsSeen[kind]++ > 0) for (const t of times) samples[kind].push(t);
    return percentile(times, 99);
  }

  process.on('message', (message: ReplicaRequest) => {
    if (message.type === 'round') {
      void round(message.kind).then((p99) => send({ type: 'round', kind: message.kind, p99 }));
      return;
    }
    const summary = (kind: LookupKind) => {
      const all = Float64Array.from(samples[kind]);
      return { p50: percentile(all, 50), p99: percentile(all, 99), count: all.length };
    };
    send({
      type: 'finished',
      latency: { answer: summary('answer'), number: summary('number') },
      storeReads,
      wrongDecisions,
    });
    process.disconnect();
  });
}

void main();

/** Sessions of the Plivo API: no intercept. */
const noIntercept = { allows: async () => true } as unknown as ProxyInterceptor;
const noOutOfSession = { ask: async () => null } as unknown as ProxyOutOfSession;
