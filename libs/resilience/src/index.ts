export * from './breaker-options';
export * from './breaker-registry';
export * from './resilience.module';
export * from './bulkheads';
export * from './token-bucket';
export * from './fair-shares';
export * from './unauthenticated-lookups';
