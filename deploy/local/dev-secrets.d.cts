export type DevSecrets = Record<
  | 'OPERATOR_KEY'
  | 'ACCOUNT_TOKEN_KEYS'
  | 'ACCOUNT_TOKEN_PEPPER'
  | 'PROVIDER_CREDENTIAL_KEYS'
  | 'PIN_ENCRYPTION_KEYS'
  | 'PIN_DIGEST_KEY'
  | 'CALL_CONTEXT_KEYS'
  | 'RECORDING_URL_KEYS'
  | 'PARTY_REDACTION_KEY',
  string
>;
export function generateSecrets(): DevSecrets;
export function loadOrCreateSecrets(file: string): DevSecrets;
