import { Inject, Injectable } from '@nestjs/common';
import { NUMBER_POOL_CONFIG, type NumberPoolConfig } from '../config/number-pool.config';
import type { NumberCapability } from '@maskline/contracts';
import { capabilitiesOf, carries, type NumberCapabilities } from './number-capabilities';
import { originOf, type NumberOrigin } from './phone-number';
import { VirtualNumberRepository } from './virtual-number.repository';

type PoolNumber = { number: string; proxyServiceSid: string | null; isReserved: boolean } & NumberOrigin &
  NumberCapabilities;

interface PoolEntry {
  numbers: PoolNumber[];
  expiresAt: number;
}

/** A Twilio Proxy participant's allocation, as the allocation contract describes it. */
export interface ProxyChoice {
  serviceSid: string;
  pinned: string | null;
  areaCode: boolean;
  prefer: readonly string[];
  avoid: readonly string[];
}

/**
 * The active numbers an owner (account or subaccount) may allocate from, in a fixed order
 * (E.164 ascending), cached briefly per replica. A number deleted on another replica may stay
 * a candidate for up to POOL_CACHE_TTL_MS, but the allocator re-checks the chosen number just
 * before claiming it, so a deleted number never takes a new session.
 */
@Injectable()
export class CandidatePool {
  private readonly cache = new Map<string, PoolEntry>();

  constructor(
    private readonly numbers: VirtualNumberRepository,
    @Inject(NUMBER_POOL_CONFIG) private readonly config: NumberPoolConfig,
  ) {}

  /**
   * Geomatch (Plivo's rule) keeps numbers with the first party's country calling code, the
   * party's own country first (+44: GB before GG/JE/IM). Without geomatch, every number, the
   * matching ones first. Only numbers that carry what the session needs.
   *
   * A reserved number is never picked, except for a Proxy participant that names it. A Proxy
   * participant gets its Service's numbers only: the one it names, or those of its area code when
   * the Service asks for that (NANP), the numbers it had before first (prefer-sticky) or last
   * (avoid-sticky).
   */
  async candidates(
    accountId: string,
    subaccountId: string | null,
    origin: NumberOrigin | undefined,
    geomatch: boolean,
    needs: readonly NumberCapability[],
    proxy?: ProxyChoice & { party: string },
  ) {
    const all = (await this.load(accountId, subaccountId)).filter(
      (n) => carries(n, needs) && (proxy ? servesProxy(n, proxy) : !n.isReserved),
    );
    if (proxy) return proxyOrder(this.geoOrder(all, origin, geomatch), proxy);
    return this.geoOrder(all, origin, geomatch);
  }

  private geoOrder(all: PoolNumber[], origin: NumberOrigin | undefined, geomatch: boolean): string[] {
    const sameCountry = all.filter((n) => n.country === origin?.country);
    const sameCode = all.filter(
      (n) => n.country !== origin?.country && n.callingCode === origin?.callingCode,
    );
    const matching = [...sameCountry, ...sameCode].map((n) => n.number);
    if (geomatch) return matching;
    return [...matching, ...all.filter((n) => n.callingCode !== origin?.callingCode).map((n) => n.number)];
  }

  invalidate(accountId: string): void {
    for (const key of this.cache.keys()) if (key.startsWith(`${accountId}|`)) this.cache.delete(key);
  }

  private async load(accountId: string, subaccountId: string | null) {
    const key = `${accountId}|${subaccountId ?? ''}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt > now) return hit.numbers;
    const docs = await this.numbers.activeForOwner(accountId, subaccountId);
    const numbers = docs.map((d) => ({
      number: d._id,
      proxyServiceSid: d.proxyServiceSid ?? null,
      isReserved: d.isReserved ?? false,
      country: d.country,
      callingCode: originOf(d._id)?.callingCode ?? '',
      ...capabilitiesOf(d),
    }));
    this.cache.set(key, { numbers, expiresAt: now + this.config.POOL_CACHE_TTL_MS });
    return numbers;
  }
}

/** Whether a Proxy participant may be given this number: its Service's, and unreserved unless named. */
function servesProxy(n: PoolNumber, proxy: ProxyChoice): boolean {
  if (n.proxyServiceSid !== proxy.serviceSid) return false;
  if (proxy.pinned) return n.number === proxy.pinned;
  return !n.isReserved;
}

/** The NANP area code of a +1 number (its three digits after the country code). */
export function nanpAreaCode(e164: string): string | null {
  return /^\+1\d{10}$/.test(e164) ? e164.slice(2, 5) : null;
}

function proxyOrder(numbers: string[], proxy: ProxyChoice & { party: string }): string[] {
  let out = numbers;
  const areaCode = proxy.areaCode ? nanpAreaCode(proxy.party) : null;
  if (areaCode) out = out.filter((n) => nanpAreaCode(n) === areaCode);
  const preferred = proxy.prefer.filter((n) => out.includes(n));
  const avoided = proxy.avoid.filter((n) => out.includes(n) && !preferred.includes(n));
  const rest = out.filter((n) => !preferred.includes(n) && !avoided.includes(n));
  return [...preferred, ...rest, ...avoided];
}
