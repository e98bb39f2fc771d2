export * from './telephony-xml';
