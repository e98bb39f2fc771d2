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

export interface SystemHealth {
  status: 'up' | 'degraded';
  nats: HealthCheckResult;
  store: HealthCheckResult;
  services: Record<string, ServiceHealthView>;
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

  /** The public report: no breaker names (they may name customers' hosts). */
  async report(): Promise<SystemHealth> {
    const detailed = await this.detailed();
    const services: Record<string, ServiceHealthView> = {};
    for (const [name, view] of Object.entries(detailed.services)) {
      const { breakers: _breakers, ...rest } = view as ServiceHealth;
      services[name] = rest as ServiceHealthView;
    }
    return { ...detailed, services };
  }

  /** The operator's report: each service's breakers that are not closed included. */
  async detailed(): Promise<SystemHealth> {
    const own = {
      ...(await this.health.report()),
      breakers: this.breakers.notClosed().slice(0, 100),
    };
    const others = SERVICE_NAMES.filter((s) => s !== 'gateway');
    const answers = await Promise.all(others.map((s) => this.ask(s)));
    const services: Record<string, ServiceHealthView> = { gateway: own };
    for (const a of answers) services[a.service] = a;
    const all = Object.values(services);
    return {
      status: all.every((s) => s.status === 'up') ? 'up' : 'degraded',
      nats: own.checks.nats ?? { status: 'down', detail: 'not checked' },
      store: own.checks.store ?? { status: 'down', detail: 'not checked' },
      services,
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
