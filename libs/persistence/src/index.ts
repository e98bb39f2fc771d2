export * from './schema-options';
export * from './account-scoped.repository';
export * from './mongo-errors';
export * from './persistence.module';
export * from './index-synchronizer';
export * from './store-rpc-error.filter';
export * from './insert-batcher';
export * from './write-batcher';
