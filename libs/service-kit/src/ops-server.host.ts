import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, MetricsService, OpsServer } from '@maskline/observability';
import { SERVICE_KIT_OPTIONS, type ServiceKitOptions } from './service-kit.options';

/** Runs the ops HTTP server (`/metrics`, `/livez`, `/readyz`) for the life of the service. */
@Injectable()
export class OpsServerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly server: OpsServer;
  port?: number;

  constructor(
    @Inject(SERVICE_KIT_OPTIONS) private readonly options: ServiceKitOptions,
    metrics: MetricsService,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.server = new OpsServer(metrics, logger);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.port = await this.server.start(this.options.config.OPS_PORT);
  }

  markReady(ready: boolean): void {
    this.server.setReady(ready);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server.stop();
  }
}
