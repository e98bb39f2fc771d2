import { DerivedSid } from './derived-sid';

const AUTH_ID = /^(MA|SA)([A-Z0-9]{18})$/;
const ACCOUNT_SIDS = new DerivedSid('AC', 'maskline twilio account sid');
const SUB = 1n << 127n;

/**
 * The Twilio-shaped Account SID of a Maskline account: `AC` and 32 hex digits, one to one with its
 * Auth ID (a main account's `MA…` and a subaccount's `SA…` alike, as Twilio's subaccounts are ACs
 * too). Twilio's SDK takes no username but an `AC…` or `SK…`; with this one and the Auth Token it
 * authenticates as the account. Derived, never stored: every account has one from the start.
 */
export function accountSidOf(authId: string): string {
  const m = AUTH_ID.exec(authId);
  if (!m) throw new Error(`not an Auth ID: ${authId}`);
  return ACCOUNT_SIDS.of((m[1] === 'SA' ? SUB : 0n) | parseInt36(m[2]));
}

/** The Auth ID an Account SID stands for, or null when it stands for none. */
export function authIdOf(accountSid: string): string | null {
  const value = ACCOUNT_SIDS.valueOf(accountSid);
  if (value === null) return null;
  const digits = (value & (SUB - 1n)).toString(36).toUpperCase();
  if (digits.length > 18) return null;
  return `${value & SUB ? 'SA' : 'MA'}${digits.padStart(18, '0')}`;
}

function parseInt36(digits: string): bigint {
  let n = 0n;
  for (const d of digits) n = n * 36n + BigInt(parseInt(d, 36));
  return n;
}
