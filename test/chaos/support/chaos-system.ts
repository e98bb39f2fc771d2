import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mongoose, { type Connection } from 'mongoose';
import { connect, RetentionPolicy, StorageType } from 'nats';
import { infra, providerSandbox, secrets, system } from '../../bench/support/bench-system';
import { Balancer } from './balancer';

type ServiceName = import('../../../deploy/local/system.cjs').ServiceName;
type ServiceProcess = import('../../../deploy/local/system.cjs').ServiceProcess;

export const SERVICES = system.SERVICES;
const CLUSTER_SIZE = 3;
const PLACEMENT_WAIT_MS = 30_000;

export const REPLICAS = 2;
/** `CHAOS_LOG_DIR=<dir>` keeps every line each replica writes, one file per replica, for diagnosis. */
const LOG_DIR = process.env.CHAOS_LOG_DIR || undefined;
if (LOG_DIR) mkdirSync(LOG_DIR, { recursive: true });

interface Replica {
  name: string;
  service: ServiceName;
  process: ServiceProcess;
  httpPort?: number;
  opsPort?: number;
  /** What it wrote last (why it exited, when it does). */
  lastLines: string[];
}

/**
 * The whole system as production runs it, on loopback: a three-node NATS JetStream cluster (streams
 * and KV buckets at 3 replicas), two replicas of every service, the gateways behind a
 * readiness-aware balancer, the store (FerretDB, or MONGO_URL). Every fault the chaos run injects
 * is a method here.
 */
export class ChaosSystem {
  readonly replicas = new Map<string, Replica>();
  readonly balancer = new Balancer();
  readonly errors: string[] = [];
  private readonly prefix = `chaos_${randomBytes(3).toString('hex')}`;
  private env: Record<string, string> = {};
  private cluster!: Awaited<ReturnType<typeof infra.startNatsCluster>>;
  private store?: Awaited<ReturnType<typeof infra.startStore>>;
  mongoUrl = '';

  static async start(serviceEnv: (service: ServiceName) => Record<string, string> = () => ({})) {
    const s = new ChaosSystem();
    try {
      await s.boot(serviceEnv);
    } catch (err) {
      // What did start (the NATS cluster, the store, replicas) must not outlive a boot that failed.
      await s.stop().catch(() => undefined);
      throw err;
    }
    return s;
  }

  get url(): string {
    return this.balancer.url;
  }

  get operatorKey(): string {
    return this.env.OPERATOR_KEY;
  }

  get natsNodes() {
    return this.cluster.nodes;
  }

  get natsUrl(): string {
    return this.cluster.url;
  }

  private serviceEnv!: (service: ServiceName) => Record<string, string>;
  private providers?: Awaited<ReturnType<typeof providerSandbox.startProviderSandbox>>;

  private async boot(serviceEnv: (service: ServiceName) => Record<string, string>) {
    system.assertBuilt();
    this.serviceEnv = serviceEnv;
    this.store = process.env.MONGO_URL ? undefined : await infra.startStore();
    this.mongoUrl = process.env.MONGO_URL ?? this.store!.url;
    this.cluster = await startPlacingCluster();
    this.providers = await providerSandbox.startProviderSandbox();
    await this.balancer.start();
    this.env = {
      ...secrets.generateSecrets(),
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      NATS_URL: this.cluster.url,
      NATS_STREAM_REPLICAS: '3',
      MONGO_URL: this.mongoUrl,
      PUBLIC_BASE_URL: this.balancer.url,
      HTTP_HOST: '127.0.0.1',
      HTTP_DRAIN_DELAY_MS: '500',
      // Callback URLs are IP literals on loopback: no name is ever resolved.
      CALLBACK_HOST_ALLOWLIST: '127.0.0.1',
      RATE_LIMIT_PER_SECOND: '100000',
      RATE_LIMIT_BURST: '100000',
      // The load runs through one account: its inbound calls and texts are not the measure here.
      INBOUND_RATE_LIMIT_PER_SECOND: '100000',
      INBOUND_RATE_LIMIT_BURST: '100000',
      // The providers' REST APIs on loopback: number-pool asks them whether the load's provider
      // accounts hold the numbers it adds (they hold every one).
      PLIVO_API_BASE_URL: this.providers.url,
      TWILIO_API_BASE_URL: this.providers.url,
    };
    // The first replica of each in turn (they create the streams and buckets, at 3 replicas), then
    // the others at once.
    for (const service of SERVICES) await this.startReplica(service, 1);
    for (let r = 2; r <= REPLICAS; r++) {
      await Promise.all(SERVICES.map((service) => this.startReplica(service, r)));
    }
    await system.waitForHealthy(this.balancer.url, { timeoutMs: 60_000 });
  }

  dbName(service: ServiceName): string {
    return `${this.prefix}_${service.replace(/-/g, '_')}`;
  }

  /** Starts replica `r` of a service and resolves once its readiness probe answers 200. */
  async startReplica(service: ServiceName, r: number): Promise<void> {
    const name = `${service}#${r}`;
    const httpPort = service === 'gateway' ? await infra.freePort() : undefined;
    const opsPort = await infra.freePort();
    const replica = { name, service, httpPort, opsPort, lastLines: [] as string[] } as Replica;
    replica.process = system.startService(
      service,
      {
        ...this.env,
        MONGO_DB: this.dbName(service),
        OPS_PORT: String(opsPort),
        ...(httpPort ? { HTTP_PORT: String(httpPort) } : {}),
        ...this.serviceEnv(service),
      },
      (_svc, line) => {
        if (LOG_DIR) appendFileSync(join(LOG_DIR, `${name.replace('#', '-')}.log`), `${line}\n`);
        if (/"level":"(error|fatal)"/.test(line)) this.errors.push(`[${name}] ${line.slice(0, 400)}`);
        replica.lastLines.push(line.slice(0, 400));
        if (replica.lastLines.length > 15) replica.lastLines.shift();
      },
    );
    this.replicas.set(name, replica);
    await this.untilReady(replica);
    if (httpPort) {
      this.balancer.set({ name, port: httpPort, readyUrl: `http://127.0.0.1:${replica.opsPort}/readyz` });
      while (this.balancer.readyCount() === 0) await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async untilReady(replica: Replica): Promise<void> {
    for (;;) {
      if (replica.process.child.exitCode !== null) {
        throw new Error(
          `${replica.name} exited with code ${replica.process.child.exitCode} before it was ready:\n${replica.lastLines.join('\n')}`,
        );
      }
      try {
        const res = await fetch(`http://127.0.0.1:${replica.opsPort}/readyz`);
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM (a rolling update's stop) or SIGKILL (a crash) of one replica; resolves when it has exited. */
  async stopReplica(
    name: string,
    signal: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: string | null; lastLines: string[] }> {
    const replica = this.replicas.get(name);
    if (!replica) throw new Error(`${name} is not running`);
    const result = { ...(await replica.process.stop(signal, 30_000)), lastLines: replica.lastLines };
    this.replicas.delete(name);
    if (replica.service === 'gateway') this.balancer.remove(name);
    return result;
  }

  /** Every replica in turn: SIGTERM, wait for it to exit, start its replacement, wait until it is ready. */
  async rollingRestart(
    onStep: (name: string, exit: { code: number | null; lastLines: string[] }) => void = () => undefined,
  ) {
    for (const service of SERVICES) {
      for (let r = 1; r <= REPLICAS; r++) {
        const exit = await this.stopReplica(`${service}#${r}`, 'SIGTERM');
        onStep(`${service}#${r}`, exit);
        await this.startReplica(service, r);
      }
    }
  }

  /** The store stops answering (SIGSTOP) for `ms`, then goes on (SIGCONT). */
  async pauseStore(ms: number): Promise<void> {
    const pid = this.store?.pid;
    if (!pid) throw new Error('the store is not ours to pause (MONGO_URL is set)');
    process.kill(pid, 'SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, ms));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  }

  /** A direct look at a service's records, for the run's final accounting. */
  async withStore<T>(fn: (db: (service: ServiceName) => Connection) => Promise<T>): Promise<T> {
    const conn = await mongoose
      .createConnection(this.mongoUrl, { serverSelectionTimeoutMS: 10_000 })
      .asPromise();
    try {
      return await fn((service) => conn.useDb(this.dbName(service), { useCache: true }));
    } finally {
      await conn.close();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.replicas.values()].map((r) => r.process.stop('SIGTERM', 15_000)));
    this.replicas.clear();
    await this.balancer.stop();
    await this.cluster?.stop();
    await this.store?.stop();
    await this.providers?.close();
  }
}

type NatsCluster = Awaited<ReturnType<typeof infra.startNatsCluster>>;

/**
 * A three-node cluster that places a stream at 3 replicas. A meta leader in the logs is not
 * enough: on a busy machine the leader has sometimes not yet counted every peer, and answered
 * "no suitable peers for placement" to the first replica's streams for 30 s, until that replica
 * gave up. So: create (and delete) a probe stream at 3 replicas until one is placed, and if none
 * is within PLACEMENT_WAIT_MS, start a new cluster, once.
 */
async function startPlacingCluster(): Promise<NatsCluster> {
  for (let attempt = 1; ; attempt++) {
    const cluster = await infra.startNatsCluster({ size: CLUSTER_SIZE });
    const placed = await untilPlaced(cluster.url).catch((err: unknown) => err as Error);
    if (placed === true) return cluster;
    await cluster.stop();
    if (attempt === 2) {
      throw new Error(`the NATS cluster placed no stream at ${CLUSTER_SIZE} replicas: ${placed.message}`);
    }
  }
}

async function untilPlaced(url: string): Promise<true> {
  const nc = await connect({ servers: url.split(','), timeout: 5_000 });
  const name = `placement_probe_${randomBytes(3).toString('hex')}`;
  const deadline = Date.now() + PLACEMENT_WAIT_MS;
  try {
    const jsm = await nc.jetstreamManager({ checkAPI: false, timeout: 5_000 });
    for (;;) {
      try {
        await jsm.streams.add({
          name,
          subjects: [`${name}.>`],
          num_replicas: CLUSTER_SIZE,
          storage: StorageType.Memory,
          retention: RetentionPolicy.Limits,
        });
        await jsm.streams.delete(name);
        return true;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await nc.close();
  }
}
