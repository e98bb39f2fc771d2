import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { HealthRegistry } from './health.registry';
import { MetricsService } from './metrics.service';

export const LOGGER = Symbol('LOGGER');

export interface ObservabilityOptions {
  logger: Logger;
  metrics: MetricsService;
  health: HealthRegistry;
}

/** Makes the process's logger, metrics and health registry injectable everywhere. */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      providers: [
        { provide: LOGGER, useValue: options.logger },
        { provide: MetricsService, useValue: options.metrics },
        { provide: HealthRegistry, useValue: options.health },
      ],
      exports: [LOGGER, MetricsService, HealthRegistry],
    };
  }
}
