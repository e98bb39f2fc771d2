import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, MetricsService } from '@maskline/observability';
import { DEFAULT_BREAKER_SETTINGS, type BreakerSettings } from './breaker-options';
import { BreakerRegistry } from './breaker-registry';

/** Provides the process's one `BreakerRegistry`, with defaults from the service's config. */
@Global()
@Module({})
export class ResilienceModule {
  static forRoot(settings: Partial<BreakerSettings> = {}): DynamicModule {
    return {
      module: ResilienceModule,
      providers: [
        {
          provide: BreakerRegistry,
          inject: [LOGGER, MetricsService],
          useFactory: (logger: Logger, metrics: MetricsService) =>
            new BreakerRegistry(logger, metrics, { ...DEFAULT_BREAKER_SETTINGS, ...settings }),
        },
      ],
      exports: [BreakerRegistry],
    };
  }
}
