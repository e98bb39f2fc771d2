import { randomBytes } from 'node:crypto';
import { mongo } from 'mongoose';
import { generateSecrets } from '../../../deploy/local/dev-secrets.cjs';
import * as system from '../../../deploy/local/system.cjs';
import { startProviderSandbox, type ProviderSandbox } from '../../../deploy/local/provider-sandbox.cjs';
import { TestDnsServer, freePort, startTestNats, testStoreUrl, type RunningProcess } from '@maskline/testing';

export type { ServiceName } from '../../../deploy/local/system.cjs';
type ServiceName = system.ServiceName;

export interface LogRecord {
  service: string;
  level: string;
  msg: string;
  correlationId?: string;
  [key: string]: unknown;
}

/**
 * The whole system as separate processes (the built services), on a fresh NATS and unique
 * databases in the test store, with every log line kept for assertions.
 */
export class E2eSystem {
  readonly secrets = generateSecrets();
  readonly operatorKey = this.secrets.OPERATOR_KEY;
  private readonly lines = new Map<ServiceName, string[]>();
  private processes = new Map<string, system.ServiceProcess>();
  private env: Record<string, string> = {};
  private readonly dbPrefix = `e2e_${randomBytes(3).toString('hex')}`;
  baseUrl = '';
  private nats?: RunningProcess;
  /** Every service resolves names here: no test sends a DNS query off the machine. */
  dns!: TestDnsServer;
  /**
   * The providers' REST APIs every service asks unless a test names others (`PLIVO_API_BASE_URL`,
   * `TWILIO_API_BASE_URL`): every account holds every number but those it disowns.
   */
  providers!: ProviderSandbox;

  get natsUrl(): string {
    if (!this.nats) throw new Error('not started');
    return this.nats.url;
  }

  static async start(
    extraEnv: Record<string, string> = {},
    envFor: (service: ServiceName) => Record<string, string> = () => ({}),
  ): Promise<E2eSystem> {
    const s = new E2eSystem();
    await s.boot(extraEnv, envFor);
    return s;
  }

  private envFor: (service: ServiceName) => Record<string, string> = () => ({});

  private serviceEnv(service: ServiceName): Record<string, string> {
    return {
      ...this.env,
      MONGO_DB: `${this.dbPrefix}_${service.replace(/-/g, '_')}`,
      ...this.envFor(service),
    };
  }

  private async boot(
    extraEnv: Record<string, string>,
    envFor: (service: ServiceName) => Record<string, string>,
  ): Promise<void> {
    this.envFor = envFor;
    this.nats = await startTestNats();
    this.dns = await TestDnsServer.start();
    this.providers = await startProviderSandbox();
    const port = await freePort();
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.env = {
      ...this.secrets,
      NODE_ENV: 'test',
      LOG_LEVEL: 'debug',
      NATS_URL: this.nats.url,
      MONGO_URL: testStoreUrl(),
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      PUBLIC_BASE_URL: this.baseUrl,
      CALLBACK_HOST_ALLOWLIST: '127.0.0.1,localhost',
      DNS_SERVERS: this.dns.address,
      // Tests stop gateways nobody balances to: a short drain keeps the behaviour, not the wait.
      HTTP_DRAIN_DELAY_MS: '100',
      PLIVO_API_BASE_URL: this.providers.url,
      TWILIO_API_BASE_URL: this.providers.url,
      ...extraEnv,
    };
    const running = await system
      .startSystem({
        env: this.env,
        envFor: (service) => ({
          MONGO_DB: `${this.dbPrefix}_${service.replace(/-/g, '_')}`,
          ...envFor(service),
        }),
        baseUrl: this.baseUrl,
        onLine: (service, line) => this.record(service, line),
      })
      .catch((err: Error) => {
        // Say why: the last lines of whatever did not start.
        const tail = [...this.lines.entries()].flatMap(([svc, lines]) =>
          lines.slice(-3).map((l) => `${svc}: ${l.slice(0, 400)}`),
        );
        throw new Error(`${err.message}\n${tail.join('\n')}`);
      });
    for (const p of running.processes) this.processes.set(p.service, p);
  }

  private record(service: ServiceName, line: string): void {
    const list = this.lines.get(service) ?? [];
    list.push(line);
    this.lines.set(service, list);
  }

  /** Every line a service wrote, parsed (non-JSON lines are kept as `msg`). */
  logs(service: ServiceName): LogRecord[] {
    return (this.lines.get(service) ?? []).map((line) => {
      try {
        return JSON.parse(line) as LogRecord;
      } catch {
        return { service, level: 'raw', msg: line };
      }
    });
  }

  rawLogs(): string {
    return [...this.lines.values()].flat().join('\n');
  }

  /** The ops port a service announced in its "ready" line. */
  opsPort(service: ServiceName): number {
    const ready = this.logs(service).filter((r) => typeof r.opsPort === 'number');
    const last = ready[ready.length - 1];
    if (!last) throw new Error(`${service} has not announced its ops port`);
    return last.opsPort as number;
  }

  /**
   * The sum of a metric's samples as every running replica of a service serves it now (0 when none
   * has it yet).
   */
  async metric(service: ServiceName, name: string): Promise<number> {
    const ports = new Set(
      this.logs(service)
        .map((r) => r.opsPort)
        .filter((p): p is number => typeof p === 'number'),
    );
    let sum = 0;
    for (const port of ports) {
      let text: string;
      try {
        text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      } catch {
        continue; // a replica that has stopped
      }
      for (const line of text.split('\n')) {
        const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
        if (match && match[1] === name) sum += Number(match[3]);
      }
    }
    return sum;
  }

  process(service: string): system.ServiceProcess {
    const p = this.processes.get(service);
    if (!p) throw new Error(`${service} is not running`);
    return p;
  }

  async stopService(service: ServiceName, signal: NodeJS.Signals = 'SIGTERM') {
    const result = await this.process(service).stop(signal);
    this.processes.delete(service);
    return result;
  }

  /** Starts a service (again, or as an extra replica under `name`), with extra env. */
  startService(service: ServiceName, extraEnv: Record<string, string> = {}, name: string = service): void {
    const p = system.startService(service, { ...this.serviceEnv(service), ...extraEnv }, (svc, line) =>
      this.record(svc, line),
    );
    this.processes.set(name, p);
  }

  /** Stops the process registered under `name` (a service, or a replica started with a name). */
  async stopNamed(name: string, signal: NodeJS.Signals = 'SIGTERM') {
    const p = this.processes.get(name);
    if (!p) throw new Error(`${name} is not running`);
    const result = await p.stop(signal);
    this.processes.delete(name);
    return result;
  }

  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await system.waitForHealthy(this.baseUrl, { timeoutMs, processes: [...this.processes.values()] });
  }

  /**
   * `work` given a service's own database in the test store, as the store holds it: for a test that
   * sets up what a replica that died part-way would have left.
   */
  async withStore<T>(service: ServiceName, work: (db: mongo.Db) => Promise<T>): Promise<T> {
    const client = await mongo.MongoClient.connect(testStoreUrl());
    try {
      return await work(client.db(this.serviceEnv(service).MONGO_DB));
    } finally {
      await client.close();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => p.stop('SIGTERM')));
    this.processes.clear();
    await this.nats?.stop();
    await this.dns?.stop();
    await this.providers?.close();
  }
}
