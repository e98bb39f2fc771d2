export * from './request-context';
export * from './redaction';
export * from './logger';
export * from './nest-logger.adapter';
export * from './metrics.service';
export * from './health.registry';
export * from './ops-server';
export * from './observability.module';
