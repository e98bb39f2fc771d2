export * from './address-policy';
export * from './host-resolver';
export * from './url-host';
export * from './url-guard';
export * from './pinned-http';
export * from './kept-alive-http.client';
export * from './provider-api';
export * from './connection-never-made';
