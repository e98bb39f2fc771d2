import {
  CONSOLE_COOKIE,
  clearCookieValue,
  cookieToken,
  credentialStamp,
  csrfTokenOf,
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
    expect(credentialStamp('a')).not.toBe(credentialStamp('b'));
  });

  it('reads its cookie among others, and ignores malformed values', () => {
    const token = newSessionToken();
    expect(cookieToken(`theme=dark; ${CONSOLE_COOKIE}=${token}; x=1`)).toBe(token);
    expect(cookieToken(`${CONSOLE_COOKIE}=short`)).toBeNull();
    expect(cookieToken(`${CONSOLE_COOKIE}=${token}<script>`)).toBeNull();
    expect(cookieToken(`other=${token}`)).toBeNull();
    expect(cookieToken(undefined)).toBeNull();
  });

  it('sets an HttpOnly, SameSite=Strict cookie, Secure only behind TLS, and clears it', () => {
    const plain = setCookieValue('t'.repeat(43), false, 3600);
    expect(plain).toContain('HttpOnly');
    expect(plain).toContain('SameSite=Strict');
    expect(plain).toContain('Path=/');
    expect(plain).not.toContain('Secure');
    expect(setCookieValue('t'.repeat(43), true, 3600)).toContain('; Secure');
    expect(clearCookieValue(false)).toMatch(new RegExp(`^${CONSOLE_COOKIE}=deleted;.*Max-Age=0`));
  });
});
