import { hostname } from 'node:os';
import type { HealthCheckResult, ServiceHealth } from '@maskline/contracts';

export type HealthCheck = () => Promise<HealthCheckResult>;

/** Named checks (NATS, store, ...) that make up a service's health. */
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();
  private readonly startedAt = Date.now();
  readonly instance = `${hostname()}:${process.pid}`;

  constructor(
    readonly service: string,
    readonly version: string,
    private readonly checkTimeoutMs = 1000,
  ) {}

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  async report(): Promise<ServiceHealth> {
    const entries = await Promise.all(
      [...this.checks.entries()].map(async ([name, check]) => [name, await this.runOne(check)] as const),
    );
    const checks = Object.fromEntries(entries);
    const status = entries.every(([, r]) => r.status === 'up') ? 'up' : 'down';
    return {
      service: this.service,
      status,
      checks,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      version: this.version,
      instance: this.instance,
    };
  }

  private async runOne(check: HealthCheck): Promise<HealthCheckResult> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        check(),
        new Promise<HealthCheckResult>((resolve) => {
          timer = setTimeout(
            () => resolve({ status: 'down', detail: `no answer in ${this.checkTimeoutMs} ms` }),
            this.checkTimeoutMs,
          );
        }),
      ]);
    } catch (err) {
      return { status: 'down', detail: err instanceof Error ? err.message : String(err) };
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}
