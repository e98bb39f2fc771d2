/**
 * Every URL the console calls, in one place (see docs/console.md). Path segments are encoded, and a
 * segment made only of dots is escaped so that "." or ".." can never walk out of the account's path.
 */
function segment(value: string): string {
  const encoded = encodeURIComponent(value);
  return /^\.+$/.test(encoded) ? encoded.replace(/\./g, '%2E') : encoded;
}

const account = (authId: string): string => `/v1/Account/${segment(authId)}/Masking`;

export const consoleEndpoints = {
  consoleSession: '/console/api/session',
  sessions: (authId: string, query: string): string => `${account(authId)}/Session/?${query}`,
  session: (authId: string, uuid: string): string => `${account(authId)}/Session/${segment(uuid)}/`,
  sessionCallbacks: (authId: string, uuid: string): string =>
    `${account(authId)}/Session/${segment(uuid)}/Callbacks/`,
  sessionPinAttempts: (authId: string, uuid: string): string =>
    `${account(authId)}/Session/${segment(uuid)}/PinAttempts/`,
  utilization: (authId: string): string => `${account(authId)}/Utilization/`,
  utilizationHistory: (authId: string, hours: number): string =>
    `${account(authId)}/Utilization/History/?hours=${hours}`,
  callbackStats: (authId: string, hours: number): string =>
    `${account(authId)}/Callbacks/Stats/?hours=${hours}`,
  deadLetters: (authId: string, limit: number, offset: number): string =>
    `${account(authId)}/Callbacks/DeadLetters/?limit=${limit}&offset=${offset}`,
  replayDeadLetter: (authId: string): string => `${account(authId)}/Callbacks/DeadLetters/Replay/`,
  pinSecurity: (authId: string, hours: number): string => `${account(authId)}/PinSecurity/?hours=${hours}`,
  operatorAccounts: (limit: number, offset: number): string =>
    `/admin/v1/accounts?limit=${limit}&offset=${offset}`,
  operatorSystem: '/admin/v1/system',
} as const;
