import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { HealthContracts } from '@maskline/contracts';
import { RpcServer } from '@maskline/messaging';
import { HealthRegistry } from '@maskline/observability';
import { BreakerRegistry } from '@maskline/resilience';
import { SERVICE_KIT_OPTIONS, type ServiceKitOptions } from './service-kit.options';

/** Answers `<service>.health.v1` with this replica's checks. */
@Injectable()
export class HealthResponder implements OnModuleInit {
  constructor(
    @Inject(SERVICE_KIT_OPTIONS) private readonly options: ServiceKitOptions,
    private readonly server: RpcServer,
    private readonly health: HealthRegistry,
    @Optional() private readonly breakers?: BreakerRegistry,
  ) {}

  onModuleInit(): void {
    this.server.addHandler(HealthContracts[this.options.service], async () => ({
      ...(await this.health.report()),
      breakers: this.breakers?.notClosed() ?? [],
    }));
  }
}
