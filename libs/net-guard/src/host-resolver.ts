import { Resolver } from 'node:dns/promises';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Turns a host name into its addresses; throws HostNotResolved when it cannot (now). */
export type HostResolver = (name: string) => Promise<ResolvedAddress[]>;

/**
 * What is said of a host that does not resolve, and of one that resolves only to addresses
 * Maskline does not call (private, reserved): the same words, so that a tenant setting callback URLs
 * cannot tell the two apart and map which names resolve inside Maskline's network.
 */
export function unresolvedReason(host: string): string {
  return `host ${host} does not resolve to a public address`;
}

export class HostNotResolved extends Error {
  constructor(readonly host: string) {
    super(unresolvedReason(host));
  }
}

/** A lookup never takes longer than this, whatever the DNS servers do. */
const LOOKUP_BUDGET_MS = 5000;

/**
 * A/AAAA records, asked at once, from `servers` (`host:port`, as DNS_SERVERS) or, when none are
 * given, from the system's DNS servers (/etc/resolv.conf; no hosts file, no search domains). Every
 * lookup has a time limit (`getaddrinfo` has none and runs on libuv's four worker threads, which a
 * host whose name servers never answer could hold).
 */
export function hostResolver(servers: readonly string[] = []): HostResolver {
  return async (name) => {
    // One resolver per lookup: cancelling it at the time limit cancels this lookup only.
    const resolver = new Resolver({ timeout: 2000, tries: 2 });
    if (servers.length > 0) resolver.setServers([...servers]);
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        resolver.cancel();
        reject(new HostNotResolved(name));
      }, LOOKUP_BUDGET_MS);
    });
    try {
      const [v4, v6] = await Promise.race([
        Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]),
        budget,
      ]);
      const found: ResolvedAddress[] = [
        ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 as const })) : []),
        ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 as const })) : []),
      ];
      if (found.length === 0) throw new HostNotResolved(name);
      return found;
    } finally {
      clearTimeout(timer);
    }
  };
}
