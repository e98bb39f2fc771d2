export * from './expect-eventually';
export * from './test-infra';
export * from './capture-logger';
export * from './test-config';
export * from './service-harness';
export * from './http-harness';
export * from './test-keys';
export * from './test-dns-server';
