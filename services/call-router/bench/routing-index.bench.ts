/**
 * npm run bench:index — one call-router replica's routing index at 10,000 and at 1,000,000 live
 * sessions (about 50 per virtual number, distinct parties, the same 200 accounts at both sizes:
 * see routing-sessions.ts; `-- --tenants-grow` gives 100 numbers to each account instead, so
 * that the larger replica also serves a hundred times the accounts and settings).
 *
 * Each size is a replica process of its own (routing-index-replica.ts, run with --expose-gc):
 * - memory: heap in use plus typed-array storage, after forced GCs, with the index minus without;
 * - load: what RoutingIndexFeeder does with a snapshot (every upsert, then retainOnly), timed
 *   without generating the pages;
 * - answer: InboundCallDecider.decide for a party calling its session's virtual number, through
 *   the real SessionFinder and index (the store, NATS KV and event ports answer at once in
 *   process); the same number of calls at both sizes, in rounds that alternate between the two
 *   replicas, so that a busy moment on a shared machine falls on both alike;
 * - number read: SessionFinder.onNumber, every live session on the number (what a caller who is
 *   not a party, PIN entry and the PIN stage read).
 * Targets (the issue): memory at 1M ≤ 300 MB; answer p99 at 1M ÷ at 10k ≤ 1.2; load time reported.
 * The ratio is given of the p99 over all calls, and of the median of the rounds' p99s, which a
 * moment of contention on the machine in one round moves less.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { CALLS_PER_ROUND, type LookupKind, type ReplicaReply, type ReplicaRequest } from './replica-protocol';
import { ACCOUNTS, SESSIONS_PER_NUMBER } from './routing-sessions';

const SIZES = [10_000, 1_000_000] as const;
/** Rounds per kind and size; the first warms up and is not counted. */
const ROUNDS = 21;
const MEMORY_TARGET_MB = 300;
const RATIO_TARGET = 1.2;
const TENANTS_GROW = process.argv.includes('--tenants-grow');
const accountsAt = (size: number) =>
  TENANTS_GROW ? Math.max(1, Math.round(size / SESSIONS_PER_NUMBER / 100)) : ACCOUNTS;

const log = (line = '') => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => bytes / 1e6;
const us = (ms: number) => (ms * 1000).toFixed(1);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

interface Replica {
  size: number;
  child: ChildProcess;
  next: () => Promise<ReplicaReply>;
}

function startReplica(size: number): Replica {
  const child = fork(
    path.join(__dirname, 'routing-index-replica.js'),
    [String(size), String(accountsAt(size))],
    {
      execArgv: [
        '--expose-gc',
        // Bytecode of start-up code is otherwise dropped between the two measurements, and counted as the index's.
        '--no-flush-bytecode',
        '--max-old-space-size=4096',
        '-r',
        path.join(process.cwd(), 'tools', 'runtime', 'alias-hook.cjs'),
      ],
    },
  );
  const replies: ReplicaReply[] = [];
  let waiting: ((reply: ReplicaReply) => void) | undefined;
  let failed: ((err: Error) => void) | undefined;
  child.on('message', (reply: ReplicaReply) => {
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve(reply);
    } else replies.push(reply);
  });
  child.on('exit', (code) => {
    if (code !== 0) failed?.(new Error(`replica of ${size} sessions exited with ${code}`));
  });
  const next = () =>
    new Promise<ReplicaReply>((resolve, reject) => {
      const queued = replies.shift();
      if (queued) return resolve(queued);
      waiting = resolve;
      failed = reject;
    });
  return { size, child, next };
}

async function ask<T extends ReplicaReply['type']>(
  replica: Replica,
  request: ReplicaRequest | undefined,
  expected: T,
): Promise<Extract<ReplicaReply, { type: T }>> {
  if (request) replica.child.send(request);
  const reply = await replica.next();
  if (reply.type !== expected) throw new Error(`replica sent ${reply.type}, expected ${expected}`);
  return reply as Extract<ReplicaReply, { type: T }>;
}

async function main() {
  const started = Date.now();
  log(
    `Routing index: one replica at ${SIZES.map((s) => s.toLocaleString('en')).join(' and ')} live sessions`,
  );
  const replicas: Replica[] = [];
  const loaded: Array<Extract<ReplicaReply, { type: 'loaded' }>> = [];
  // One at a time, so that loading one does not slow the other's.
  for (const size of SIZES) {
    const replica = startReplica(size);
    replicas.push(replica);
    loaded.push(await ask(replica, undefined, 'loaded'));
    log(`  loaded ${size.toLocaleString('en')} sessions`);
  }

  const roundP99: Record<LookupKind, number[][]> = { answer: [[], []], number: [[], []] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of ['answer', 'number'] as const) {
      // Alternate which size goes first.
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        const reply = await ask(replicas[i], { type: 'round', kind }, 'round');
        if (r > 0) roundP99[kind][i].push(reply.p99);
      }
    }
  }
  const finished: Array<Extract<ReplicaReply, { type: 'finished' }>> = [];
  for (const replica of replicas) finished.push(await ask(replica, { type: 'finish' }, 'finished'));

  log('');
  log(
    `sessions  | numbers | accounts | index memory | load    | answer p50 / p99 (µs) | number read p50 / p99 (µs) | store reads | wrong`,
  );
  log(
    `----------|---------|----------|--------------|---------|-----------------------|----------------------------|-------------|------`,
  );
  SIZES.forEach((size, i) => {
    const l = loaded[i];
    const f = finished[i];
    log(
      `${size.toLocaleString('en').padStart(9)} | ${l.numbers.toLocaleString('en').padStart(7)} | ${String(accountsAt(size)).padStart(8)} | ${`${mb(l.indexBytes).toFixed(1)} MB`.padStart(12)} | ${`${(l.loadMs / 1000).toFixed(2)} s`.padStart(7)} | ${`${us(f.latency.answer.p50)} / ${us(f.latency.answer.p99)}`.padStart(21)} | ${`${us(f.latency.number.p50)} / ${us(f.latency.number.p99)}`.padStart(26)} | ${String(f.storeReads).padStart(11)} | ${f.wrongDecisions}`,
    );
    if (l.sessions !== size) log(`  (the index holds ${l.sessions} sessions, not ${size})`);
  });
  log('');
  log(
    `Per-round answer p99 (µs), ${CALLS_PER_ROUND.toLocaleString('en')} calls a round: ` +
      SIZES.map((s, i) => `${s.toLocaleString('en')}: ${roundP99.answer[i].map(us).join(' ')}`).join('; '),
  );
  const memory = mb(loaded[1].indexBytes);
  const ratio = finished[1].latency.answer.p99 / finished[0].latency.answer.p99;
  const roundsRatio = median(roundP99.answer[1]) / median(roundP99.answer[0]);
  const numberRatio = finished[1].latency.number.p99 / finished[0].latency.number.p99;
  const verdict = (ok: boolean) => (ok ? 'meets' : 'MISSES');
  log('');
  log(`Targets`);
  log(
    `  memory at 1M sessions          ${memory.toFixed(1)} MB, target ≤ ${MEMORY_TARGET_MB} MB: ${verdict(memory <= MEMORY_TARGET_MB)}`,
  );
  log(
    `  answer p99 1M ÷ 10k, all calls ${ratio.toFixed(2)}, target ≤ ${RATIO_TARGET}: ${verdict(ratio <= RATIO_TARGET)}`,
  );
  log(
    `  the same, median of rounds     ${roundsRatio.toFixed(2)}, target ≤ ${RATIO_TARGET}: ${verdict(roundsRatio <= RATIO_TARGET)}`,
  );
  log(`  load at 1M sessions            ${(loaded[1].loadMs / 1000).toFixed(2)} s (reported)`);
  log(`  number read p99 1M ÷ 10k       ${numberRatio.toFixed(2)} (reported)`);
  log(
    `  (memory in MB of 10^6 bytes: JS heap plus typed arrays; run took ${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
