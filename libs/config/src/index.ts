export * from './load-config';
export * from './env-types';
export * from './common-service.config';
export * from './call-context.config';
export * from './recording-url.config';
export * from './callback-url.config';
export * from './privacy.config';
export * from './provider-api.config';
