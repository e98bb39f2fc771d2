import * as ipaddr from 'ipaddr.js';

/**
 * True when a callback may not reach this address unless its host is allowlisted: anything but
 * global unicast. ipaddr.js classifies (loopback, private, link-local incl. cloud metadata
 * 169.254.169.254, carrier-grade NAT, reserved and documentation ranges, multicast, broadcast,
 * unspecified; on IPv6 also unique-local, 6to4, Teredo and NAT64 prefixes, which embed IPv4
 * addresses, and anything outside 2000::/3); an IPv4-mapped IPv6 address is judged as the IPv4
 * address it maps. Anything ipaddr.js cannot read is refused.
 */
export function isForbiddenAddress(address: string): boolean {
  const canonical = canonicalAddress(address);
  if (!canonical) return true;
  const parsed = ipaddr.parse(canonical);
  if (parsed.range() !== 'unicast') return true;
  // IPv6 outside 2000::/3 (IPv4-compatible ::a.b.c.d among them) is nobody's public address.
  return parsed.kind() === 'ipv6' && !(parsed as ipaddr.IPv6).match(GLOBAL_UNICAST_V6);
}

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3') as [ipaddr.IPv6, number];

/**
 * The one spelling of an IP address, whatever spelling it was written in (decimal, hex, octal,
 * short IPv4 forms; IPv6 with or without zero compression; IPv4-mapped IPv6 as its IPv4); null
 * when it is not an address.
 */
export function canonicalAddress(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(bare)) return null;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(bare);
  } catch {
    return null;
  }
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.toString();
}

/** Whether a host name is `localhost` or one of its subdomains (a trailing dot or not): loopback by definition (RFC 6761). */
export function isLoopbackName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}
