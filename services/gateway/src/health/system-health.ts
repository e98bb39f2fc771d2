import { Inject, Injectable } from '@nestjs/common';
import {
  HealthContracts,
  SERVICE_NAMES,
  type HealthCheckResult,
  type ServiceHealth,
  type ServiceName,
} from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { HealthRegistry } from '@maskline/observability';
import { BreakerRegistry } from '@maskline/resilience';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

export type ServiceHealthView = ServiceHealth | { service: ServiceName; status: 'down'; detail: string };

/** A breaker that is not closed, and the service it is in. */
export interface OpenBreaker {
  service: string;
  name: string;
  state: 'open' | 'half-open';
}

export interface SystemHealth {
  status: 'up' | 'degraded';
  nats: HealthCheckResult;
  store: HealthCheckResult;
  services: Record<string, ServiceHealthView>;
}

/**
 * What anyone may read (`GET /health`, unauthenticated): up or not, for each part, and nothing
 * else. Replicas' host names and process ids, versions, uptimes and error messages are the
 * operator's (`detailed`): they would tell anyone how many replicas run, when they restart, and
 * what failed (another tenant's flood among it).
 */
export interface PublicSystemHealth {
  status: SystemHealth['status'];
  nats: { status: HealthCheckResult['status'] };
  store: { status: HealthCheckResult['status'] };
  services: Record<string, { status: ServiceHealthView['status'] }>;
}

/** Asks every service for its health over NATS, in parallel, each with a timeout. */
@Injectable()
export class SystemHealthService {
  constructor(
    private readonly rpc: RpcClient,
    private readonly health: HealthRegistry,
    private readonly breakers: BreakerRegistry,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** The public report: each part's status only (PublicSystemHealth). */
  async report(): Promise<PublicSystemHealth> {
    const { status, nats, store, services } = await this.detailed();
    return {
      status,
      nats: { status: nats.status },
      store: { status: store.status },
      services: Object.fromEntries(Object.entries(services).map(([name, s]) => [name, { status: s.status }])),
    };
  }

  /** The operator's report: also every service's breakers that are not closed, by service. */
  async detailed(): Promise<SystemHealth & { breakers: OpenBreaker[] }> {
    const own = { ...(await this.health.report()), breakers: this.breakers.notClosed() };
    const others = SERVICE_NAMES.filter((s) => s !== 'gateway');
    const answers = await Promise.all(others.map((s) => this.ask(s)));
    const services: Record<string, ServiceHealthView> = {};
    const breakers: OpenBreaker[] = [];
    for (const a of [own, ...answers]) {
      const { breakers: open = [], ...view } = a as ServiceHealth;
      services[a.service] = view as ServiceHealthView;
      for (const b of open) breakers.push({ service: a.service, ...b });
    }
    const all = Object.values(services);
    return {
      status: all.every((s) => s.status === 'up') ? 'up' : 'degraded',
      nats: own.checks.nats ?? { status: 'down', detail: 'not checked' },
      store: own.checks.store ?? { status: 'down', detail: 'not checked' },
      services,
      breakers,
    };
  }

  private async ask(service: Exclude<ServiceName, 'gateway'>): Promise<ServiceHealthView> {
    try {
      return await this.rpc.request(
        HealthContracts[service],
        {},
        { timeoutMs: this.config.HEALTH_TIMEOUT_MS },
      );
    } catch (err) {
      return { service, status: 'down', detail: err instanceof Error ? err.message : 'no answer' };
    }
  }
}
