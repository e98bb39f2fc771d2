/**
 * npm run bench:store — the local store's statements on each FerretDB backend this machine has
 * (SQLite always, PostgreSQL when one answers): a collection of session-sized documents, the
 * statement shapes the services send, each next to a floor measured in the same run (a find by `_id`
 * in a collection of FLOOR_DOCS), and the store's CPU per statement (FerretDB's and, on PostgreSQL,
 * the server's). `--docs N` sizes the collection (default 10,000); `--backend sqlite|postgresql`
 * measures one backend only.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient, type Collection } from 'mongodb';
import { infra, log, pct } from './support/bench-system';
import { cpuMsByName, postgresPids, type NamedPids } from './support/process-cpu';

const FLOOR_DOCS = 100;
const SAMPLES = 40;
/** The ids one batched statement names, against as many statements by one `_id` each. */
const IN_IDS = 32;

interface SessionLike {
  _id: string;
  accountId: string;
  status: 'active' | 'expired';
  firstParty: string;
  createdAt: Date;
  settings: Record<string, unknown>;
}

/** A session-sized document (about 1 KB, as a stored session with its settings). */
function session(i: number): SessionLike {
  return {
    _id: randomUUID(),
    accountId: `MA${String(i % 10).padStart(18, '0')}`,
    status: 'active',
    firstParty: `+1415${String(1_000_000 + i)}`,
    createdAt: new Date(),
    settings: {
      callbackUrl: `http://127.0.0.1:9/${'x'.repeat(700)}`,
      ringTimeoutSeconds: 120,
      record: false,
    },
  };
}

async function fill(collection: Collection<SessionLike>, count: number): Promise<SessionLike[]> {
  const docs = Array.from({ length: count }, (_, i) => session(i));
  for (let i = 0; i < docs.length; i += 1000) await collection.insertMany(docs.slice(i, i + 1000));
  return docs;
}

async function timed(op: () => Promise<unknown>, pids: () => NamedPids) {
  const before = cpuMsByName(pids());
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now();
    await op();
    times.push(performance.now() - t0);
  }
  const after = cpuMsByName(pids());
  const cpu = [...after].reduce((sum, [name, ms]) => sum + ms - (before.get(name) ?? 0), 0) / SAMPLES;
  return { p50: pct(times, 50), p99: pct(times, 99), cpu };
}

async function measure(backend: 'sqlite' | 'postgresql', docs: number): Promise<void> {
  process.env.STORE_BACKEND = backend;
  const store = await infra.startStore({});
  const client = await MongoClient.connect(store.url);
  const pids = (): NamedPids => [
    { name: 'store', pid: store.pid },
    ...(backend === 'postgresql' ? postgresPids('store') : []),
  ];
  try {
    const db = client.db('bench_store');
    const floorDocs = await fill(db.collection('floor'), FLOOR_DOCS);
    const sessions = db.collection<SessionLike>('sessions');
    const t0 = performance.now();
    const stored = await fill(sessions, docs);
    const insertMs = performance.now() - t0;
    const any = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)]!;
    const floor = await timed(
      () => db.collection('floor').findOne({ _id: any(floorDocs)._id } as never),
      pids,
    );
    const rows: Array<[string, () => Promise<unknown>]> = [
      ['find by _id', () => sessions.findOne({ _id: any(stored)._id })],
      ['find by _id and state', () => sessions.findOne({ _id: any(stored)._id, status: 'active' })],
      [
        'update by _id',
        () => sessions.updateOne({ _id: any(stored)._id }, { $set: { 'settings.record': true } }),
      ],
      [
        'update by _id and state',
        () =>
          sessions.updateOne(
            { _id: any(stored)._id, status: 'active' },
            { $set: { 'settings.record': true } },
          ),
      ],
      ['find by another field', () => sessions.findOne({ firstParty: any(stored).firstParty })],
      // The batched statements (`byIds` in libs/persistence): one for many ids, against one per id.
      [
        `update by _id, ${IN_IDS} ids`,
        () =>
          Promise.all(
            Array.from({ length: IN_IDS }, () =>
              sessions.updateOne({ _id: any(stored)._id }, { $set: { 'settings.record': true } }),
            ),
          ),
      ],
      [
        `update by _id $in ${IN_IDS}`,
        () =>
          sessions.updateMany(
            { _id: { $in: Array.from({ length: IN_IDS }, () => any(stored)._id) } },
            { $set: { 'settings.record': true } },
          ),
      ],
      [
        `find by _id $in ${IN_IDS}`,
        () =>
          sessions.find({ _id: { $in: Array.from({ length: IN_IDS }, () => any(stored)._id) } }).toArray(),
      ],
      // A delete that finds nothing (the collection stays the size it is): the statement's cost.
      [
        `delete by _id, ${IN_IDS} ids`,
        () => Promise.all(Array.from({ length: IN_IDS }, () => sessions.deleteOne({ _id: randomUUID() }))),
      ],
      [
        `delete by _id $in ${IN_IDS}`,
        () => sessions.deleteMany({ _id: { $in: Array.from({ length: IN_IDS }, () => randomUUID()) } }),
      ],
    ];
    log(`\nFerretDB on ${backend}: ${docs} documents inserted in ${(insertMs / 1000).toFixed(1)} s`);
    log(
      `floor (find by _id among ${FLOOR_DOCS}): p50 ${floor.p50.toFixed(1)} ms, p99 ${floor.p99.toFixed(1)} ms, store CPU ${floor.cpu.toFixed(1)} ms`,
    );
    log('statement                   | p50 (ms) | p99 (ms) | store CPU (ms) | p50 ÷ floor');
    for (const [name, op] of rows) {
      const r = await timed(op, pids);
      log(
        `${name.padEnd(23)} | ${r.p50.toFixed(1).padStart(8)} | ${r.p99.toFixed(1).padStart(8)} | ${r.cpu
          .toFixed(1)
          .padStart(14)} | ${(r.p50 / floor.p50).toFixed(1)}`,
      );
    }
  } finally {
    await client.close();
    await store.stop();
  }
}

async function main() {
  const at = process.argv.indexOf('--docs');
  const docs = at > 0 ? Number(process.argv[at + 1]) : 10_000;
  if (!Number.isInteger(docs) || docs < 1) throw new Error('--docs takes a whole number of documents');
  if (process.env.MONGO_URL || infra.which('mongod')) {
    log('MONGO_URL or mongod: the store is not FerretDB here, and this benchmark measures FerretDB');
    return;
  }
  infra.ensureFerretdbBinary({ log });
  const havePostgres = await infra.postgresqlAnswers();
  const only = process.argv.includes('--backend')
    ? process.argv[process.argv.indexOf('--backend') + 1]
    : undefined;
  if (only !== undefined && only !== 'sqlite' && only !== 'postgresql') {
    throw new Error('--backend takes sqlite or postgresql');
  }
  log(`FerretDB v1.24.2 on each backend this machine has; ${SAMPLES} samples a statement`);
  if (only !== 'postgresql') await measure('sqlite', docs);
  if (only === 'sqlite') return;
  if (havePostgres) await measure('postgresql', docs);
  else log(`\nno PostgreSQL answers at ${infra.postgresqlUrl()}: SQLite only`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
