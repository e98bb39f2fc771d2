import { Resolver, lookup } from 'node:dns/promises';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Turns a host name into its addresses; throws HostNotResolved when it cannot (now). */
export type HostResolver = (name: string) => Promise<ResolvedAddress[]>;

export class HostNotResolved extends Error {
  constructor(readonly host: string) {
    super(`host ${host} does not resolve`);
  }
}

const family = (f: number): 4 | 6 => (f === 6 ? 6 : 4);

/**
 * The operating system's resolver (getaddrinfo: /etc/hosts, then DNS), or, when `servers` is
 * given (`host:port`, as DNS_SERVERS), those DNS servers alone: A and AAAA records, asked at once.
 */
export function hostResolver(servers: readonly string[] = []): HostResolver {
  if (servers.length === 0) {
    return async (name) => {
      try {
        const found = await lookup(name, { all: true, verbatim: true });
        if (found.length === 0) throw new HostNotResolved(name);
        return found.map((a) => ({ address: a.address, family: family(a.family) }));
      } catch (err) {
        if (err instanceof HostNotResolved) throw err;
        throw new HostNotResolved(name);
      }
    };
  }
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([...servers]);
  return async (name) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
    const found: ResolvedAddress[] = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 as const })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 as const })) : []),
    ];
    if (found.length === 0) throw new HostNotResolved(name);
    return found;
  };
}
