export * from './plivo-number';
export * from './plivo-time';
