import { createHash, createHmac, randomBytes } from 'node:crypto';

/** The console's cookie: an opaque token, HttpOnly, SameSite=Strict, Secure behind TLS. */
export const CONSOLE_COOKIE = 'maskline_console';
/**
 * Its name behind TLS: a `__Host-` cookie is Secure, host-only and `Path=/`, so no sibling subdomain
 * can set one that shadows it. Over TLS only this name is read.
 */
export const CONSOLE_COOKIE_TLS = `__Host-${CONSOLE_COOKIE}`;

export const cookieNameFor = (secure: boolean): string => (secure ? CONSOLE_COOKIE_TLS : CONSOLE_COOKIE);
/** Every cookie-authenticated request carries this header, equal to the session's CSRF token. */
export const CSRF_HEADER = 'X-CSRF-Token';

/** Who a console session acts as: an account (main or sub) or the operator. */
export type ConsoleIdentity =
  | { kind: 'account'; authId: string; accountId: string; subaccountId?: string; credentialStamp: string }
  | { kind: 'operator'; credentialStamp: string };

/** What the store keeps for a session (under a digest of the token, never the token). */
export interface ConsoleSessionRecord {
  identity: ConsoleIdentity;
  createdAt: number;
  lastSeenAt: number;
}

export interface ConsoleSessionLimits {
  idleMs: number;
  maxAgeMs: number;
}

export const newSessionToken = (): string => randomBytes(32).toString('base64url');

/** The store's key for a token: a digest, so a store dump holds no usable cookie. */
export const sessionKey = (token: string): string =>
  createHash('sha256').update(`console-session:${token}`).digest('base64url');

/**
 * The CSRF token: derived from the session token, so it needs no storage and only a page that could
 * read the session (the console, same origin) can know it; a cross-site form or fetch cannot.
 */
export const csrfTokenOf = (token: string): string =>
  createHash('sha256').update(`console-csrf:${token}`).digest('base64url');

/**
 * A stamp of a credential: a session ends when the credential behind it changes (token rotated,
 * operator key replaced). Keyed, so a dump of the sessions gives nothing to guess the key against.
 */
export const credentialStamp = (key: Buffer, credential: string): string =>
  createHmac('sha256', key).update(`console-stamp:${credential}`).digest('base64url');

export type SessionVerdict = 'live' | 'idle' | 'too-old';

/** Whether a session may still be used at `now`. */
export function verdictOf(
  record: ConsoleSessionRecord,
  now: number,
  limits: ConsoleSessionLimits,
): SessionVerdict {
  if (now - record.createdAt >= limits.maxAgeMs) return 'too-old';
  if (now - record.lastSeenAt >= limits.idleMs) return 'idle';
  return 'live';
}

/** How often a used session's idle clock is written back: often enough to cost at most this much idle time. */
export const TOUCH_EVERY_MS = 30_000;

export const needsTouch = (record: ConsoleSessionRecord, now: number): boolean =>
  now - record.lastSeenAt >= TOUCH_EVERY_MS;

/**
 * The session token from a Cookie header: the first well-formed value of the cookie's name for this
 * transport (only the `__Host-` one over TLS), or null.
 */
export function cookieToken(header: string | undefined, secure: boolean): string | null {
  if (!header) return null;
  const name = cookieNameFor(secure);
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    if (/^[A-Za-z0-9_-]{20,100}$/.test(value)) return value;
  }
  return null;
}

/** The Set-Cookie value: HttpOnly, SameSite=Strict, Path=/, Secure (and `__Host-`) when over TLS. */
export function setCookieValue(token: string, secure: boolean, maxAgeSeconds: number): string {
  return [
    `${cookieNameFor(secure)}=${token}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

export function clearCookieValue(secure: boolean): string {
  return setCookieValue('deleted', secure, 0);
}

/**
 * Whether a browser says this request came from another site (a login-CSRF form, say): by
 * `Sec-Fetch-Site`, or else by an `Origin` whose host is not the one asked.
 */
export function isCrossSite(headers: { secFetchSite?: string; origin?: string; host?: string }): boolean {
  if (headers.secFetchSite !== undefined)
    return headers.secFetchSite !== 'same-origin' && headers.secFetchSite !== 'none';
  if (headers.origin === undefined || headers.origin === 'null') return headers.origin === 'null';
  try {
    return new URL(headers.origin).host !== headers.host;
  } catch {
    return true;
  }
}
