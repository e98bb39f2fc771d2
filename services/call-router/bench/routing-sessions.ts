import { DEFAULT_SESSION_SETTINGS, type RoutingSession, type SessionSettings } from '@maskline/contracts';
import { seededRandom } from '@maskline/service-kit';

/**
 * Live sessions as one call-router replica would hold them, derived from their position alone
 * (session i is the same every time it is asked for), so a benchmark can regenerate any of them
 * without keeping a million objects around:
 * - about SESSIONS_PER_NUMBER sessions share each virtual number, all with distinct parties (the
 *   allocator's uniqueness invariant); a twentieth are single-party sessions;
 * - the numbers shared out among the accounts (200 unless said otherwise: the same tenants at
 *   every size, so that only the number of sessions changes); a third of the sessions made
 *   through one of an account's subaccounts;
 * - settings from one of the account's two profiles (plain with recording, or PIN), with the
 *   expiry the account's client picked for that session out of four;
 * - times in epoch-millisecond ISO form, as session-service writes them.
 */

export const SESSIONS_PER_NUMBER = 50;
export const ACCOUNTS = 200;
const EXPIRIES = [1800, 3600, 14_400, 86_400];
const AREA_CODES = ['212', '312', '415', '512', '617', '646', '206', '305'];

export interface SessionWorld {
  sessions: number;
  numbers: number;
  accounts: number;
  /** Every session is live for at least half of its expiry after this instant. */
  now: number;
}

export function sessionWorld(sessions: number, accounts = ACCOUNTS, now = Date.now()): SessionWorld {
  const numbers = Math.max(1, Math.round(sessions / SESSIONS_PER_NUMBER));
  return { sessions, numbers, accounts: Math.min(accounts, numbers), now };
}

/** Seeded per session, so session i never depends on the others. */
const random = seededRandom;

const hex = (rnd: () => number, digits: number) => {
  let s = '';
  for (let i = 0; i < digits; i++) s += Math.floor(rnd() * 16).toString(16);
  return s;
};

export function virtualNumberOf(number: number): string {
  return `+1${AREA_CODES[number % AREA_CODES.length]}${String(2_000_000 + Math.floor(number / AREA_CODES.length)).padStart(7, '0')}`;
}

function accountIdOf(account: number, subaccount?: number): string {
  const rnd = random(0x5eed + account * 31 + (subaccount ?? 7));
  let id = subaccount === undefined ? 'MA' : 'SA';
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  while (id.length < 20) id += alphabet[Math.floor(rnd() * alphabet.length)];
  return id;
}

/** Digits that look random but are distinct for distinct k below the modulus (3^18 is prime to 10). */
const scramble = (k: number, modulus: number) =>
  String((k * 387_420_489) % modulus).padStart(String(modulus).length - 1, '0');

/** Party k of the whole world (k below ten million): a US, UK mobile or Indian mobile number, distinct for each k. */
function partyOf(k: number): string {
  if (k % 5 === 0) return `+447${scramble(k, 1e9)}`;
  if (k % 5 === 1) return `+919${scramble(k, 1e9)}`;
  return `+1${AREA_CODES[k % AREA_CODES.length]}${scramble(k, 1e7)}`;
}

function profileOf(account: number, pin: boolean, expiry: number): SessionSettings {
  const base = `http://127.0.0.1:9/tenant${account}/maskline`;
  return {
    ...DEFAULT_SESSION_SETTINGS,
    sessionExpirySeconds: expiry,
    callbackUrl: `${base}/events`,
    record: !pin,
    recordingCallbackUrl: pin ? null : `${base}/recordings`,
    firstPartyPlayUrl: pin ? null : `${base}/media/connecting.mp3`,
    isPinAuthenticationRequired: pin,
    generatePin: pin,
    generatePinLength: pin ? 4 : DEFAULT_SESSION_SETTINGS.generatePinLength,
    pinPromptPlay: pin ? `${base}/media/enter-pin.mp3` : null,
  };
}

export function sessionAt(world: SessionWorld, i: number): RoutingSession {
  const rnd = random(i * 2654435761);
  const number = i % world.numbers;
  const account = number % world.accounts;
  const expiry = EXPIRIES[Math.floor(rnd() * EXPIRIES.length)];
  const created = world.now - Math.floor(rnd() * expiry * 500);
  const singleParty = rnd() < 0.05;
  const sub = rnd() < 1 / 3 ? accountIdOf(account, Math.floor(rnd() * 3)) : null;
  const settings = profileOf(account, rnd() < 0.5, expiry);
  return {
    sessionId: `${hex(rnd, 8)}-${hex(rnd, 4)}-4${hex(rnd, 3)}-${'89ab'[Math.floor(rnd() * 4)]}${hex(rnd, 3)}-${hex(rnd, 12)}`,
    accountId: accountIdOf(account),
    subaccountId: sub,
    virtualNumber: virtualNumberOf(number),
    firstParty: partyOf(2 * i),
    secondParty: singleParty ? null : partyOf(2 * i + 1),
    status: 'active',
    expiresAt: new Date(created + expiry * 1000).toISOString(),
    createdAt: new Date(created).toISOString(),
    modifiedAt: new Date(created + Math.floor(rnd() * 60_000)).toISOString(),
    settings: { ...settings, createSessionWithSingleParty: singleParty },
  };
}
