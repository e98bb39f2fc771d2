import { Module, type DynamicModule } from '@nestjs/common';
import { HealthRegistry, MetricsService, ObservabilityModule, createLogger } from '@maskline/observability';
import type { CommonServiceConfig } from '@maskline/config';
import { HISTORY_READ_LIMIT_VARIABLES, type HistoryReadKind } from '@maskline/contracts';
import { MessagingModule, type MessagingOptions } from '@maskline/messaging';
import { PersistenceModule } from '@maskline/persistence';
import { ResilienceModule } from '@maskline/resilience';
import { CLOCK, systemClock } from './clock';
import { ClockOffsetProbe } from './clock-offset.probe';
import { HealthResponder } from './health-responder';
import { OpsServerHost } from './ops-server.host';
import { SERVICE_CONFIG, SERVICE_KIT_OPTIONS, type ServiceKitOptions } from './service-kit.options';

/**
 * Everything a Maskline service runs on, wired from its config: logs, metrics and health; circuit
 * breakers; NATS (RPC server and client, JetStream publisher and consumers); its own database;
 * the health responder; the ops HTTP server.
 */
@Module({})
export class ServiceKitModule {
  static forRoot(options: ServiceKitOptions): DynamicModule {
    const { config, service } = options;
    const logger = options.logger ?? createLogger({ service, level: config.LOG_LEVEL });
    const metrics = new MetricsService(service);
    const health = new HealthRegistry(service, config.MASKLINE_VERSION ?? 'dev');
    const imports = [
      ObservabilityModule.forRoot({ logger, metrics, health }),
      ResilienceModule.forRoot({
        errorThresholdPercentage: config.BREAKER_ERROR_THRESHOLD_PERCENT,
        resetTimeoutMs: config.BREAKER_RESET_MS,
        volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
      }),
      MessagingModule.forRoot({
        service,
        servers: config.NATS_URL,
        rpcTimeoutMs: config.RPC_TIMEOUT_MS,
        shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
        streamReplicas: config.NATS_STREAM_REPLICAS,
        storageBytes: config.NATS_STORAGE_BYTES,
        memoryBytes: config.NATS_MEMORY_BYTES,
        historyReads: historyReadLimitsOf(config),
        breaker: {},
        errorFilter: options.errorFilter,
      }),
    ];
    if (options.store) {
      imports.push(
        PersistenceModule.forRoot({
          ...options.store,
          statsDir: config.STORE_COMMAND_STATS_DIR,
          commandTimeoutMs: config.STORE_COMMAND_TIMEOUT_MS,
        }),
      );
    }
    return {
      module: ServiceKitModule,
      global: true,
      imports,
      providers: [
        { provide: SERVICE_KIT_OPTIONS, useValue: options },
        { provide: SERVICE_CONFIG, useValue: options.config },
        { provide: CLOCK, useValue: systemClock },
        HealthResponder,
        OpsServerHost,
        ClockOffsetProbe,
      ],
      exports: [SERVICE_KIT_OPTIONS, SERVICE_CONFIG, CLOCK, OpsServerHost],
    };
  }
}

/** Each kind's limits of reads of history, from the variables that set them. */
function historyReadLimitsOf(config: CommonServiceConfig): MessagingOptions['historyReads'] {
  const of = ({ perAccount, inFlight }: (typeof HISTORY_READ_LIMIT_VARIABLES)[HistoryReadKind]) => ({
    perAccount: config[perAccount],
    inFlight: config[inFlight],
  });
  return { scan: of(HISTORY_READ_LIMIT_VARIABLES.scan), lookup: of(HISTORY_READ_LIMIT_VARIABLES.lookup) };
}
