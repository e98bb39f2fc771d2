import { proxyExpiry, slidExpiry } from './proxy-expiry';

const at = (iso: string) => new Date(iso);

describe('a Proxy session’s expiry', () => {
  it('is its DateExpiry when it has one, else creation + TTL, else (TTL 0) about ten years off', () => {
    const created = at('2026-01-01T00:00:00Z');
    expect(proxyExpiry({ ttl: 600, dateExpiry: at('2026-02-01T00:00:00Z') }, created)).toEqual(
      at('2026-02-01T00:00:00Z'),
    );
    expect(proxyExpiry({ ttl: 600, dateExpiry: null }, created)).toEqual(at('2026-01-01T00:10:00Z'));
    expect(proxyExpiry({ ttl: 0, dateExpiry: null }, created).getUTCFullYear()).toBe(2035);
  });

  it('slides to the last interaction + TTL, never back, and not when DateExpiry or no TTL rules it', () => {
    const current = at('2026-01-01T00:10:00Z');
    expect(slidExpiry({ ttl: 600, dateExpiry: null }, current, at('2026-01-01T00:05:00Z'))).toEqual(
      at('2026-01-01T00:15:00Z'),
    );
    // An interaction reported late (older than what the expiry already counts from) moves nothing.
    expect(slidExpiry({ ttl: 600, dateExpiry: null }, current, at('2026-01-01T00:00:00Z'))).toBeNull();
    expect(
      slidExpiry({ ttl: 600, dateExpiry: at('2026-01-01T00:10:00Z') }, current, at('2026-01-01T00:05:00Z')),
    ).toBeNull();
    expect(slidExpiry({ ttl: 0, dateExpiry: null }, current, at('2026-01-01T00:05:00Z'))).toBeNull();
  });
});
