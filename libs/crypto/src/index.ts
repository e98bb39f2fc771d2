export * from './keyring';
export * from './secret-box';
export * from './keyed-digest';
