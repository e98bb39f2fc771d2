export * from './service-kit.options';
export * from './service-kit.module';
export * from './health-responder';
export * from './ops-server.host';
export * from './bootstrap-service';
export * from './clock';
export * from './periodic-task';
export * from './http-drain';
