export * from './plivo-v3-signature';
export * from './twilio-signature';
