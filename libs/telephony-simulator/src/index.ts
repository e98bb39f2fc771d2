export * from './mini-xml';
export * from './simulated-provider';
export * from './telephony-simulator';
export * from './cli';
