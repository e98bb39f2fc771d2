import { createHash } from 'node:crypto';

const AUTH_ID = /^(MA|SA)([A-Z0-9]{18})$/;
const ACCOUNT_SID = /^AC([0-9a-f]{32})$/;
/** Spreads the digits so that aliases look like Twilio's (public: the alias is a name, not a secret). */
const MASK = BigInt(
  `0x${createHash('sha256').update('maskline twilio account sid').digest('hex').slice(0, 32)}`,
);
const SPAN = 1n << 128n;

/**
 * The Twilio-shaped Account SID of a Maskline account: `AC` and 32 hex digits, one to one with its
 * Auth ID (a main account's `MA…` and a subaccount's `SA…` alike, as Twilio's subaccounts are ACs
 * too). Twilio's SDK takes no username but an `AC…` or `SK…`; with this one and the Auth Token it
 * authenticates as the account. Derived, never stored: every account has one from the start.
 */
export function accountSidOf(authId: string): string {
  const m = AUTH_ID.exec(authId);
  if (!m) throw new Error(`not an Auth ID: ${authId}`);
  const value = (BigInt(m[1] === 'SA' ? 1 : 0) << 127n) | BigInt(parseInt36(m[2]));
  return `AC${(value ^ MASK).toString(16).padStart(32, '0')}`;
}

/** The Auth ID an Account SID stands for, or null when it stands for none. */
export function authIdOf(accountSid: string): string | null {
  const m = ACCOUNT_SID.exec(accountSid);
  if (!m) return null;
  const value = (BigInt(`0x${m[1]}`) ^ MASK) % SPAN;
  const kind = value >> 127n === 1n ? 'SA' : 'MA';
  const rest = value & ((1n << 127n) - 1n);
  const digits = rest.toString(36).toUpperCase();
  if (digits.length > 18) return null;
  return `${kind}${digits.padStart(18, '0')}`;
}

function parseInt36(digits: string): bigint {
  let n = 0n;
  for (const d of digits) n = n * 36n + BigInt(parseInt(d, 36));
  return n;
}
