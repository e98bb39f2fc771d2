import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { expectEventually } from '@maskline/testing';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS, outside every project
const infra = require(
  join(process.cwd(), 'deploy', 'local', 'infra.cjs'),
) as typeof import('../../deploy/local/infra.cjs');

/** What the launcher's PostgreSQL databases are called (deploy/local/ferretdb/postgresql.go). */
const TEMPORARY = 'maskline_tmp_';

/** The store answers as a MongoDB-wire store: a write, a read, a unique index that holds. */
async function expectWorking(url: string): Promise<void> {
  const client = await MongoClient.connect(url, { serverSelectionTimeoutMS: 10_000 });
  try {
    const things = client.db('local_store_check').collection<{ _id: string; key: string }>('things');
    await things.createIndex({ key: 1 }, { unique: true });
    await things.insertOne({ _id: 'a', key: 'k1' });
    await expect(things.insertOne({ _id: 'b', key: 'k1' })).rejects.toMatchObject({ code: 11000 });
    expect(await things.findOne({ key: 'k1' })).toEqual({ _id: 'a', key: 'k1' });
  } finally {
    await client.close();
  }
}

/** The rows of a query of the PostgreSQL server, through psql (PostgreSQL's own client). */
function psql(query: string): string[] {
  const server = infra.postgresqlUrl().replace(/\/[^/?]*(\?.*)?$/, '/postgres');
  const res = spawnSync('psql', [server, '-tAc', query], { encoding: 'utf8' });
  expect(res.status).toBe(0);
  return res.stdout.split('\n').filter(Boolean);
}

/** The PostgreSQL server's temporary store databases. */
function temporaryDatabases(): string[] {
  return psql(`SELECT datname FROM pg_database WHERE datname LIKE '${TEMPORARY}%'`);
}

/**
 * A psql session of the test's own that asks for the advisory lock a store's launcher holds on its
 * database's name (deploy/local/ferretdb/postgresql.go), and waits in line for it: once the
 * launcher is gone the lock passes to this session, before any launcher starting elsewhere (another
 * test file's) can take the database for one left and drop it. `queued` resolves once it waits in
 * line, `held` once it has the lock.
 */
function lockLineFor(database: string) {
  const server = infra.postgresqlUrl().replace(/\/[^/?]*(\?.*)?$/, '/postgres');
  const name = `maskline_lock_line_${process.pid}`;
  const session = spawn('psql', [server, '-qtA', '-v', 'ON_ERROR_STOP=1'], {
    env: { ...process.env, PGAPPNAME: name },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  session.stdin.write(`SELECT pg_advisory_lock(hashtextextended('${database}', 0));\n\\echo held\n`);
  const held = new Promise<void>((resolve, reject) => {
    let out = '';
    session.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('held')) resolve();
    });
    session.once('exit', (code) => reject(new Error(`psql exited with code ${code} before the lock`)));
  });
  const waiting = `SELECT count(*) FROM pg_stat_activity WHERE application_name = '${name}' AND wait_event_type = 'Lock'`;
  return {
    queued: () => expectEventually(() => expect(psql(waiting)).toEqual(['1'])),
    held,
    release: () =>
      new Promise<void>((resolve) => {
        session.once('exit', () => resolve());
        session.stdin.end();
      }),
  };
}

/**
 * The temporary databases of one store, by its launcher's pid (the name's first part): not what
 * appeared since a moment before, as another test file's store (the chaos run's) may start meanwhile.
 */
function databasesOf(store: { pid?: number }): string[] {
  return temporaryDatabases().filter((d) => d.startsWith(`${TEMPORARY}${store.pid}_`));
}

describe('the local store: FerretDB on PostgreSQL when one answers, else on SQLite', () => {
  const saved = { backend: process.env.STORE_BACKEND, url: process.env.STORE_POSTGRESQL_URL };
  const ferretdb = !process.env.MONGO_URL && !infra.which('mongod');

  afterEach(() => {
    for (const [name, value] of [
      ['STORE_BACKEND', saved.backend],
      ['STORE_POSTGRESQL_URL', saved.url],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('runs on PostgreSQL when it answers, in a database of its own that goes when the store does, or when a later store finds it left', async () => {
    if (!ferretdb) return expect(process.env.MASKLINE_TEST_MONGO_URL).toBeTruthy(); // not FerretDB here
    delete process.env.STORE_BACKEND;
    if (!(await infra.postgresqlAnswers())) {
      // No PostgreSQL on this machine: the store runs on SQLite, as the README says.
      const store = await infra.startStore({});
      expect(store.backend).toBe('sqlite');
      await expectWorking(store.url);
      return store.stop();
    }
    const store = await infra.startStore({});
    expect(store.backend).toBe('postgresql');
    await expectWorking(store.url);
    const own = databasesOf(store);
    expect(own).toHaveLength(1);
    // Made in UTF8 with the C collation FerretDB requires, whatever the server's default.
    expect(
      psql(`SELECT pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = '${own[0]}'`),
    ).toEqual(['UTF8|C']);
    await store.stop();
    expect(temporaryDatabases()).not.toContain(own[0]);

    // A store killed outright leaves its database; the next store to start drops it.
    const killed = await infra.startStore({});
    const left = databasesOf(killed);
    expect(left).toHaveLength(1);
    // A store starting beside a live one leaves its database alone (the live one holds its lock).
    const alongside = await infra.startStore({});
    expect(temporaryDatabases()).toContain(left[0]);
    await expectWorking(killed.url);
    await alongside.stop();
    // Whatever store starts meanwhile (another file's) must not drop it before it is looked at.
    const line = lockLineFor(left[0]!);
    await line.queued();
    process.kill(killed.pid!, 'SIGKILL');
    await new Promise((resolve) => killed.child.once('exit', resolve));
    await killed.stop(); // gone already: its throwaway directory goes
    await line.held;
    expect(temporaryDatabases()).toContain(left[0]);
    await line.release();
    const next = await infra.startStore({});
    expect(temporaryDatabases()).not.toContain(left[0]);
    await next.stop();
  }, 60_000);

  it('runs on SQLite when told to, and when PostgreSQL refuses it (unless told to use PostgreSQL)', async () => {
    if (!ferretdb) return expect(process.env.MASKLINE_TEST_MONGO_URL).toBeTruthy();
    process.env.STORE_BACKEND = 'sqlite';
    const told = await infra.startStore({});
    expect(told.backend).toBe('sqlite');
    await expectWorking(told.url);
    await told.stop();

    delete process.env.STORE_BACKEND;
    if (!(await infra.postgresqlAnswers())) return;
    const server = new URL(infra.postgresqlUrl());
    // A role the server does not have: it refuses, and the store runs on SQLite, saying why.
    server.username = 'no_such_role_maskline';
    process.env.STORE_POSTGRESQL_URL = server.toString();
    const said: string[] = [];
    const refused = await infra.startStore({ log: (line) => said.push(line) });
    expect(refused.backend).toBe('sqlite');
    expect(said.join('\n')).toMatch(/cannot be used, so FerretDB runs on SQLite[\s\S]*no_such_role_maskline/);
    await expectWorking(refused.url);
    await refused.stop();

    process.env.STORE_BACKEND = 'postgresql';
    await expect(infra.startStore({})).rejects.toThrow(/exited with code 3/);
  }, 60_000);

  it('keeps the long-lived store (npm start’s) on the backend its data is in, and will not move it to an empty one', async () => {
    if (!ferretdb) return expect(process.env.MASKLINE_TEST_MONGO_URL).toBeTruthy();
    delete process.env.STORE_BACKEND;
    if (!(await infra.postgresqlAnswers())) return;
    const server = new URL(infra.postgresqlUrl());
    const dir = mkdtempSync(join(tmpdir(), 'maskline-kept-'));
    let older: string | undefined;
    // A database of this test's own, not npm start's `maskline`.
    const database = `maskline_kept_test_${process.pid}`;
    server.pathname = `/${database}`;
    process.env.STORE_POSTGRESQL_URL = server.toString();
    try {
      const first = await infra.startStore({ dir });
      expect(first.backend).toBe('postgresql');
      await expectWorking(first.url);
      await first.stop();
      expect(readFileSync(join(dir, 'backend'), 'utf8').trim()).toBe('postgresql');

      // PostgreSQL cannot be had: the start fails, saying where the data is, rather than run on SQLite.
      const refused = new URL(server);
      refused.username = 'no_such_role_maskline';
      process.env.STORE_POSTGRESQL_URL = refused.toString();
      await expect(infra.startStore({ dir })).rejects.toThrow(/the store's data is in PostgreSQL/);

      // A store an earlier version kept on SQLite (its files, no record) stays there.
      older = mkdtempSync(join(tmpdir(), 'maskline-kept-'));
      mkdirSync(join(older, 'data'));
      process.env.STORE_POSTGRESQL_URL = server.toString();
      const stayed = await infra.startStore({ dir: older });
      expect(stayed.backend).toBe('sqlite');
      await stayed.stop();
    } finally {
      psql(`DROP DATABASE IF EXISTS ${database}`);
      for (const kept of [dir, older]) if (kept) rmSync(kept, { recursive: true, force: true });
    }
  }, 60_000);
});
