import { canonicalAddress } from './address-policy';

export interface UrlHost {
  /** The host exactly as the user wrote it (lower-cased, IPv6 brackets removed): what an allowlist entry must equal. */
  written: string;
  /** The host as a URL parser reads it (WHATWG: every IPv4 spelling becomes a dotted quad). */
  parsed: string;
  /** The IP address the host is, when it is one (canonical form), else null (a name to resolve). */
  address: string | null;
}

/**
 * Reads the host of a URL twice: as written, and as parsed. They differ when the host is spelled
 * unusually (`127.1`, `0x7f000001`, `2130706433`, percent-escapes, a trailing dot...): an
 * allowlist admits only the spelling its operator wrote, and the address decision is made on the
 * parsed form.
 */
export function urlHost(raw: string, url: URL): UrlHost {
  const authority = /^\s*[a-zA-Z][a-zA-Z0-9+.-]*:[\\/]{2}([^\\/?#]*)/.exec(raw)?.[1] ?? '';
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const host = hostPort.startsWith('[')
    ? hostPort.slice(0, hostPort.indexOf(']') + 1)
    : hostPort.replace(/:[^:]*$/, '');
  const parsed = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return {
    written: host.replace(/^\[|\]$/g, '').toLowerCase(),
    parsed,
    address: canonicalAddress(parsed),
  };
}
