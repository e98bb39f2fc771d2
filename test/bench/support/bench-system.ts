import { appendFileSync, mkdirSync } from 'node:fs';
/**
 * What every whole-system benchmark starts the same way: the store (FerretDB, or MONGO_URL) and a
 * NATS server for the run, every service as a process on a free port with production settings and
 * fresh dev secrets, each service with its own database under a per-run prefix.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';

const root = process.cwd();
export const infra = require(
  path.join(root, 'deploy', 'local', 'infra.cjs'),
) as typeof import('../../../deploy/local/infra.cjs');
export const system = require(
  path.join(root, 'deploy', 'local', 'system.cjs'),
) as typeof import('../../../deploy/local/system.cjs');
export const secrets = require(
  path.join(root, 'deploy', 'local', 'dev-secrets.cjs'),
) as typeof import('../../../deploy/local/dev-secrets.cjs');
export const providerSandbox = require(
  path.join(root, 'deploy', 'local', 'provider-sandbox.cjs'),
) as typeof import('../../../deploy/local/provider-sandbox.cjs');

export type ServiceProcess = import('../../../deploy/local/system.cjs').ServiceProcess;

import { postgresPids, type NamedPids } from './process-cpu';

export const log = (line = '') => process.stdout.write(`${line}\n`);

/** The p-th percentile (nearest rank) of the values. */
export const pct = (v: number[], p: number) =>
  [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor((p / 100) * v.length))];

/** Error and fatal log lines of the services, shortened, on stderr; the rest is dropped. */
export const errorLines = (service: string, line: string) => {
  if (/"level":"(error|fatal)"/.test(line)) process.stderr.write(`[${service}] ${line.slice(0, 300)}\n`);
};

export interface BenchSystemOptions {
  /** Settings for every service on top of the defaults. */
  env?: Record<string, string>;
  /** Settings for one service on top of its database name. */
  serviceEnv?: (service: string) => Record<string, string>;
  onLine?: (service: string, line: string) => void;
}

export async function startBenchSystem(options: BenchSystemOptions = {}) {
  const store = process.env.MONGO_URL ? undefined : await infra.startStore({ log });
  const mongoUrl = process.env.MONGO_URL ?? (store as { url: string }).url;
  const nats = await infra.startNats();
  // The providers' REST APIs on loopback (number-pool asks whether an account holds a number it
  // adds), unless the bench names its own.
  const sandbox =
    options.env?.PLIVO_API_BASE_URL && options.env?.TWILIO_API_BASE_URL
      ? undefined
      : await providerSandbox.startProviderSandbox();
  const port = await infra.freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    ...secrets.generateSecrets(),
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    NATS_URL: nats.url,
    MONGO_URL: mongoUrl,
    HTTP_PORT: String(port),
    PUBLIC_BASE_URL: baseUrl,
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
    // The load runs through one account: its inbound calls and texts are not the measure here.
    INBOUND_RATE_LIMIT_PER_SECOND: '100000',
    INBOUND_RATE_LIMIT_BURST: '100000',
    // ...and its session creations: the room for creation verdicts alone bounds them, not one account's share.
    CREATIONS_ACCOUNT_PERCENT: '100',
    ...(sandbox ? { PLIVO_API_BASE_URL: sandbox.url, TWILIO_API_BASE_URL: sandbox.url } : {}),
    ...options.env,
  };
  const prefix = `bench_${randomBytes(3).toString('hex')}`;
  /** A service's own settings (its database; whatever serviceEnv adds), as startSystem passed them. */
  // BENCH_CPU_PROF=number-pool,gateway writes V8 CPU profiles of those services to BENCH_CPU_PROF_DIR.
  const profiled = new Set((process.env.BENCH_CPU_PROF ?? '').split(',').filter(Boolean));
  const profileDir = process.env.BENCH_CPU_PROF_DIR ?? 'dist/cpu-profiles';
  // BENCH_NODE_ARGS='--trace-gc' passes node flags to every service (a diagnostic: GC, heap sizes).
  const nodeArgs = (service: string) =>
    [
      process.env.BENCH_NODE_ARGS ?? '',
      profiled.has(service) ? `--cpu-prof --cpu-prof-dir=${profileDir}` : '',
    ]
      .filter(Boolean)
      .join(' ');
  const envFor = (service: string): Record<string, string> => ({
    MONGO_DB: `${prefix}_${service.replace(/-/g, '_')}`,
    ...(nodeArgs(service) ? { MASKLINE_NODE_ARGS: nodeArgs(service) } : {}),
    ...options.serviceEnv?.(service),
  });
  // BENCH_LOG_DIR=<dir> keeps every line each service writes (one file per service), for diagnosis.
  const logDir = process.env.BENCH_LOG_DIR;
  if (logDir) mkdirSync(logDir, { recursive: true });
  const shown = options.onLine ?? errorLines;
  const onLine = logDir
    ? (service: string, line: string) => {
        appendFileSync(path.join(logDir, `${service}.log`), `${line}\n`);
        shown(service, line);
      }
    : shown;
  let running: Awaited<ReturnType<typeof system.startSystem>>;
  try {
    running = await system.startSystem({ env, envFor: envFor as never, baseUrl, onLine });
  } catch (err) {
    // The services are stopped by startSystem; the bench's own NATS and store are stopped here.
    await nats.stop();
    await store?.stop();
    await sandbox?.close();
    throw err;
  }
  // Interrupted (Ctrl-C, a `kill`, a timeout's SIGTERM), the bench stops what it started and its
  // temporary directories go with them: left running, the system would hold the machine's cores and
  // ports after the bench had gone.
  const stopOnSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the bench's system`);
    void handle
      .stop()
      .catch((err: unknown) => log(`the bench's system did not stop cleanly: ${String(err)}`))
      .finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const handle = {
    env,
    envFor,
    onLine,
    baseUrl,
    mongoUrl,
    prefix,
    running,
    store,
    nats,
    /** A new main account (through the operator API): its API root and Basic auth header. */
    async account(name = 'bench'): Promise<{ authId: string; auth: string; api: string }> {
      const res = await fetch(`${baseUrl}/admin/v1/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-operator-key': env.OPERATOR_KEY },
        body: JSON.stringify({ name }),
      });
      const created = (await res.json()) as { auth_id: string; auth_token: string };
      return {
        authId: created.auth_id,
        auth: `Basic ${Buffer.from(`${created.auth_id}:${created.auth_token}`).toString('base64')}`,
        api: `${baseUrl}/v1/Account/${created.auth_id}`,
      };
    },
    /** Starts one more instance of a service (after the bench stopped or killed one). */
    startService: (service: string) =>
      system.startService(service as never, { ...env, ...envFor(service) }, onLine),
    /** The processes of this run (services, NATS, the store), for CPU accounting. */
    pids: (): NamedPids => [
      ...running.processes.map((p: ServiceProcess) => ({ name: p.service, pid: p.child.pid })),
      { name: 'nats', pid: nats.pid },
      ...(store ? [{ name: 'store', pid: store.pid }] : []),
      ...(store?.backend === 'postgresql' ? postgresPids('store') : []),
    ],
    /** Stops the services startSystem started, NATS and the store (the caller stops any it added). */
    async stop(): Promise<void> {
      process.off('SIGINT', stopOnSignal);
      process.off('SIGTERM', stopOnSignal);
      await running.stopAll();
      await nats.stop();
      await store?.stop();
      await sandbox?.close();
    },
  };
  return handle;
}
