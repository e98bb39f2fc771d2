import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isForbiddenAddress } from './address-policy';

export type GuardVerdict =
  | { ok: true; address: string; family: 4 | 6; allowlisted: boolean }
  | { ok: false; reason: string };

/**
 * Decides whether a URL may be called: http(s) only, and every address its host resolves to must
 * be public, unless the host is on the allowlist (tests and local development; empty in
 * production). The address returned is the one to connect to, so DNS cannot change between the
 * check and the request.
 */
export class UrlGuard {
  private readonly allowlist: Set<string>;

  constructor(allowlist: readonly string[]) {
    this.allowlist = new Set(allowlist.map((h) => h.toLowerCase()));
  }

  async check(url: string): Promise<GuardVerdict> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { ok: false, reason: 'is not a URL' };
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      return { ok: false, reason: 'must be http or https' };
    if (parsed.username || parsed.password) return { ok: false, reason: 'must not carry credentials' };
    const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const allowlisted = this.allowlist.has(host);
    let addresses: Array<{ address: string; family: number }>;
    if (isIP(host)) {
      addresses = [{ address: host, family: isIP(host) }];
    } else {
      try {
        addresses = await lookup(host, { all: true, verbatim: true });
      } catch {
        return { ok: false, reason: `host ${host} does not resolve` };
      }
    }
    if (addresses.length === 0) return { ok: false, reason: `host ${host} does not resolve` };
    if (!allowlisted) {
      const bad = addresses.find((a) => isForbiddenAddress(a.address));
      if (bad) return { ok: false, reason: `host ${host} resolves to a private or reserved address` };
    }
    const first = addresses[0];
    return { ok: true, address: first.address, family: first.family === 6 ? 6 : 4, allowlisted };
  }
}
