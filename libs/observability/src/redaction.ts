/**
 * Field names whose values never reach a log line. Matching is by key name at any depth up to
 * REDACT_DEPTH, so `{ pin }`, `{ body: { first_party_pin } }` and `{ req: { headers: { authorization } } }`
 * are all covered.
 */
export const SECRET_FIELDS = [
  'pin',
  'pins',
  'first_party_pin',
  'second_party_pin',
  'firstPartyPin',
  'secondPartyPin',
  'digits',
  'Digits',
  'auth_token',
  'authToken',
  'token',
  'password',
  'secret',
  'authorization',
  'Authorization',
  'cookie',
  'x-plivo-signature-v3',
  'x-twilio-signature',
  'x-operator-key',
  'operatorKey',
  'credentials',
] as const;

/** Phone numbers of people (never virtual numbers): logged with all but the last 4 digits masked. */
export const PHONE_FIELDS = [
  'from',
  'to',
  'From',
  'To',
  'first_party',
  'second_party',
  'firstParty',
  'secondParty',
  'party',
  'parties',
  'caller',
  'callerNumber',
  'callee',
] as const;

export const REDACT_DEPTH = 4;

export function redactPaths(fields: readonly string[], depth = REDACT_DEPTH): string[] {
  const paths: string[] = [];
  for (const field of fields) {
    const key = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(field) ? field : `["${field}"]`;
    for (let d = 0; d <= depth; d++) {
      const prefix = '*.'.repeat(d);
      paths.push(key.startsWith('[') ? `${prefix.slice(0, -1)}${key}` : `${prefix}${key}`);
    }
  }
  return paths.filter((p) => !p.startsWith('['));
}

const PHONE_SET = new Set<string>(PHONE_FIELDS);

export function maskPhone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskPhone);
  if (typeof value !== 'string') return value === undefined ? value : '[REDACTED]';
  const digits = value.replace(/[^0-9]/g, '');
  if (digits.length <= 4) return '****';
  return `${value.startsWith('+') ? '+' : ''}${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}

/** pino `redact.censor`: phone fields keep their last 4 digits, everything else is replaced. */
export function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1];
  if (key !== undefined && PHONE_SET.has(key)) return maskPhone(value);
  return '[REDACTED]';
}
