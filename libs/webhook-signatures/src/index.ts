export * from './plivo-v3-signature';
