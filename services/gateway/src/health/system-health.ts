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
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async report(): Promise<SystemHealth> {
    const own = await this.health.report();
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
