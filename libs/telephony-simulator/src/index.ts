export * from '@maskline/telephony-xml';
export * from './simulated-provider';
export * from './telephony-simulator';
export * from './cli';
