import { Inject, Injectable } from '@nestjs/common';
import { NUMBER_POOL_CONFIG, type NumberPoolConfig } from '../config/number-pool.config';
import type { NumberCapability } from '@maskline/contracts';
import { capabilitiesOf, carries, type NumberCapabilities } from './number-capabilities';
import { originOf, type NumberOrigin } from './phone-number';
import { VirtualNumberRepository } from './virtual-number.repository';

interface PoolEntry {
  numbers: Array<{ number: string } & NumberOrigin & NumberCapabilities>;
  expiresAt: number;
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
   */
  async candidates(
    accountId: string,
    subaccountId: string | null,
    origin: NumberOrigin | undefined,
    geomatch: boolean,
    needs: readonly NumberCapability[],
  ) {
    const all = (await this.load(accountId, subaccountId)).filter((n) => carries(n, needs));
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
    // A reserved number (a Proxy Service keeps it for sessions that name it) is never picked.
    const docs = (await this.numbers.activeForOwner(accountId, subaccountId)).filter((d) => !d.isReserved);
    const numbers = docs.map((d) => ({
      number: d._id,
      country: d.country,
      callingCode: originOf(d._id)?.callingCode ?? '',
      ...capabilitiesOf(d),
    }));
    this.cache.set(key, { numbers, expiresAt: now + this.config.POOL_CACHE_TTL_MS });
    return numbers;
  }
}
