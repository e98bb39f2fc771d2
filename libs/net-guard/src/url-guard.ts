import { isForbiddenAddress, isLoopbackName } from './address-policy';
import { HostNotResolved, hostResolver, unresolvedReason, type HostResolver } from './host-resolver';
import { urlHost } from './url-host';

export type GuardVerdict =
  /** May be called: connect to `address` (the one checked), whatever DNS says later. */
  | { ok: true; address: string; family: 4 | 6; allowlisted: boolean }
  /** Certainly bad: a wrong scheme, credentials, a private or reserved address in any spelling, or a host resolving to one. */
  | { ok: false; reason: string }
  /** Its host does not resolve right now: not known to be bad; ask again later. */
  | { ok: 'unresolved'; reason: string };

/**
 * Decides whether Maskline may call a URL (callbacks): http(s) only, no credentials, and every
 * address the host is or resolves to must be global unicast, unless the host, exactly as written,
 * is on the allowlist (tests and local development; empty in production). The address returned
 * is the one to connect to, so DNS cannot change between the check and the request.
 */
export class UrlGuard {
  private readonly allowlist: Set<string>;

  constructor(
    allowlist: readonly string[],
    private readonly resolve: HostResolver = hostResolver(),
  ) {
    this.allowlist = new Set(
      allowlist.map((h) =>
        h
          .trim()
          .toLowerCase()
          .replace(/^\[|\]$/g, ''),
      ),
    );
  }

  async check(raw: string): Promise<GuardVerdict> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { ok: false, reason: 'is not a URL' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { ok: false, reason: 'must be http or https' };
    }
    if (url.username || url.password) return { ok: false, reason: 'must not carry credentials' };
    const host = urlHost(raw, url);
    // Only the spelling the operator wrote: `127.1` is not `127.0.0.1` to an allowlist.
    const allowlisted = this.allowlist.has(host.written) && host.written === host.parsed;
    // `localhost` and its subdomains are loopback by definition (RFC 6761): certainly bad, not a name to ask about.
    if (!allowlisted && isLoopbackName(host.parsed)) {
      return { ok: false, reason: 'must not point at a private or reserved address' };
    }
    let addresses;
    if (host.address) {
      addresses = [{ address: host.address, family: (host.address.includes(':') ? 6 : 4) as 4 | 6 }];
    } else {
      try {
        addresses = await this.resolve(host.parsed);
      } catch (err) {
        if (err instanceof HostNotResolved) return { ok: 'unresolved', reason: err.message };
        throw err;
      }
    }
    if (!allowlisted && addresses.some((a) => isForbiddenAddress(a.address))) {
      // An address written in the URL is certainly bad. A name is told apart from one that does not
      // resolve by nothing: both are accepted at set time and retried at delivery (and never called),
      // so the answers say nothing of which names resolve inside Maskline's network.
      return host.address
        ? { ok: false, reason: 'must not point at a private or reserved address' }
        : { ok: 'unresolved', reason: unresolvedReason(host.parsed) };
    }
    const [first] = addresses;
    return { ok: true, address: first.address, family: first.family, allowlisted };
  }
}
