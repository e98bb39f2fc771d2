import {
  CONSOLE_COOKIE,
  CONSOLE_COOKIE_TLS,
  clearCookieValue,
  cookieToken,
  credentialStamp,
  csrfTokenOf,
  isCrossSite,
  needsTouch,
  newSessionToken,
  sessionKey,
  setCookieValue,
  TOUCH_EVERY_MS,
  verdictOf,
  type ConsoleSessionRecord,
} from './console-session-rules';

const limits = { idleMs: 15 * 60_000, maxAgeMs: 12 * 3600_000 };
const record = (createdAt: number, lastSeenAt: number): ConsoleSessionRecord => ({
  identity: { kind: 'operator', credentialStamp: 's' },
  createdAt,
  lastSeenAt,
});

describe('console session rules', () => {
  it('ends a session after the idle limit, and after the longest life however busy', () => {
    const t0 = 1_000_000;
    expect(verdictOf(record(t0, t0), t0 + limits.idleMs - 1, limits)).toBe('live');
    expect(verdictOf(record(t0, t0), t0 + limits.idleMs, limits)).toBe('idle');
    const busy = record(t0, t0 + limits.maxAgeMs - 1000);
    expect(verdictOf(busy, t0 + limits.maxAgeMs - 1, limits)).toBe('live');
    expect(verdictOf(busy, t0 + limits.maxAgeMs, limits)).toBe('too-old');
  });

  it('writes the idle clock back at most every TOUCH_EVERY_MS', () => {
    expect(needsTouch(record(0, 0), TOUCH_EVERY_MS - 1)).toBe(false);
    expect(needsTouch(record(0, 0), TOUCH_EVERY_MS)).toBe(true);
  });

  it('keeps neither the token nor the CSRF token derivable from what the store holds', () => {
    const token = newSessionToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newSessionToken()).not.toBe(token);
    expect(sessionKey(token)).not.toContain(token);
    expect(csrfTokenOf(token)).not.toBe(sessionKey(token));
    expect(csrfTokenOf(token)).toBe(csrfTokenOf(token));
    const key = Buffer.alloc(32, 7);
    expect(credentialStamp(key, 'a')).not.toBe(credentialStamp(key, 'b'));
    expect(credentialStamp(key, 'a')).not.toBe(credentialStamp(Buffer.alloc(32, 8), 'a'));
  });

  it('reads its cookie among others, skipping malformed values, and only the __Host- one over TLS', () => {
    const token = newSessionToken();
    expect(cookieToken(`theme=dark; ${CONSOLE_COOKIE}=${token}; x=1`, false)).toBe(token);
    expect(cookieToken(`${CONSOLE_COOKIE}=short`, false)).toBeNull();
    expect(cookieToken(`${CONSOLE_COOKIE}=${token}<script>`, false)).toBeNull();
    // A malformed value planted first does not hide the real one.
    expect(cookieToken(`${CONSOLE_COOKIE}=bad!; ${CONSOLE_COOKIE}=${token}`, false)).toBe(token);
    expect(cookieToken(`other=${token}`, false)).toBeNull();
    expect(cookieToken(undefined, false)).toBeNull();
    // Over TLS a plain-named cookie (which a sibling subdomain could set) is not read.
    expect(cookieToken(`${CONSOLE_COOKIE}=${token}`, true)).toBeNull();
    expect(cookieToken(`${CONSOLE_COOKIE_TLS}=${token}`, true)).toBe(token);
  });

  it('tells a sign-in from another site by Sec-Fetch-Site, or else by Origin', () => {
    expect(isCrossSite({ secFetchSite: 'same-origin', host: 'h' })).toBe(false);
    expect(isCrossSite({ secFetchSite: 'none', host: 'h' })).toBe(false);
    expect(isCrossSite({ secFetchSite: 'cross-site', origin: 'http://h', host: 'h' })).toBe(true);
    expect(isCrossSite({ secFetchSite: 'same-site', host: 'h' })).toBe(true);
    expect(isCrossSite({ origin: 'http://127.0.0.1:8080', host: '127.0.0.1:8080' })).toBe(false);
    expect(isCrossSite({ origin: 'https://evil.test', host: '127.0.0.1:8080' })).toBe(true);
    expect(isCrossSite({ origin: 'null', host: 'h' })).toBe(true);
    expect(isCrossSite({ host: 'h' })).toBe(false); // not a browser: nothing to forge
  });

  it('sets an HttpOnly, SameSite=Strict cookie, Secure only behind TLS, and clears it', () => {
    const plain = setCookieValue('t'.repeat(43), false, 3600);
    expect(plain).toContain('HttpOnly');
    expect(plain).toContain('SameSite=Strict');
    expect(plain).toContain('Path=/');
    expect(plain).not.toContain('Secure');
    expect(setCookieValue('t'.repeat(43), true, 3600)).toMatch(
      new RegExp(`^${CONSOLE_COOKIE_TLS}=t+;.*; Secure$`),
    );
    expect(clearCookieValue(false)).toMatch(new RegExp(`^${CONSOLE_COOKIE}=deleted;.*Max-Age=0`));
  });
});
