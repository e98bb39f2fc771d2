export * from './mini-xml';
export * from './telephony-simulator';
export * from './cli';
