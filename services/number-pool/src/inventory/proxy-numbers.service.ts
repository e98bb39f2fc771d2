import { Injectable } from '@nestjs/common';
import {
  CodedError,
  ProxyErrorCodes,
  type AccountScope,
  type ProxyNumber,
  type RpcParsedRequestOf,
  type AssignProxyNumber,
  type ListProxyNumbers,
  sameHolder,
} from '@maskline/contracts';
import { HoldMaintenance } from '../allocation/hold-maintenance';
import { CandidatePool } from './candidate-pool';
import { ProxyNumberClaimRepository } from './proxy-number-claim.repository';
import { toVirtualNumber } from './inventory.service';
import { VirtualNumberRepository } from './virtual-number.repository';
import type { VirtualNumberDocument } from './virtual-number.schema';

/** How old a claim with no number record to match must be before another Service may take it over. */
const CLAIM_GRACE_MS = 60_000;

/**
 * The numbers of Twilio Proxy Services: numbers of the account's inventory, each serving at most
 * one Service. (The Service itself is session-service's; the gateway has checked that it is the
 * caller's before asking here.)
 */
@Injectable()
export class ProxyNumbersService {
  constructor(
    private readonly numbers: VirtualNumberRepository,
    private readonly pool: CandidatePool,
    private readonly holds: HoldMaintenance,
    private readonly claims: ProxyNumberClaimRepository,
  ) {}

  /**
   * Gives the number to the Service: its claim decides between concurrent requests (one wins; the
   * other is told the number serves another Service). A claim left by a request that died before
   * writing the number's record, older than CLAIM_GRACE_MS, is taken over. The number's record is
   * written only while it is still this owner's: taken by another account or moved to another of the
   * account's holders since it was looked at, the claim is given back (a claim left behind would
   * keep the number's next holder from giving it to a Service of its own, and tell it someone had).
   */
  async assign(request: RpcParsedRequestOf<typeof AssignProxyNumber>): Promise<ProxyNumber> {
    const { scope, serviceSid, number } = request;
    const doc = await this.visible(scope, number);
    if (!doc) throw notAvailable(number, 'not-yours');
    for (let attempt = 0; ; attempt++) {
      if (await this.claims.take(scope.accountId, number, serviceSid)) break;
      const holder = await this.claims.holder(scope.accountId, number);
      // Released meanwhile: take it (once; a claim no account of ours holds is not ours to wait on).
      if (!holder && attempt === 0) continue;
      if (!holder) throw notAvailable(number, 'taken');
      if (holder.serviceSid === serviceSid) break;
      const stale =
        doc.proxyServiceSid !== holder.serviceSid && holder.createdAt.getTime() < Date.now() - CLAIM_GRACE_MS;
      if (!stale || attempt > 0) throw notAvailable(number, 'taken');
      await this.claims.release(scope.accountId, number, holder.serviceSid);
    }
    const written = await this.numbers.updateHeld(scope, number, {
      proxyServiceSid: serviceSid,
      ...(request.isReserved !== undefined ? { isReserved: request.isReserved } : {}),
    });
    if (!written) {
      await this.claims.release(scope.accountId, number, serviceSid);
      throw notAvailable(number, 'not-yours');
    }
    this.pool.invalidate(scope.accountId);
    return this.get(scope, serviceSid, number);
  }

  async get(scope: AccountScope, serviceSid: string, number: string): Promise<ProxyNumber> {
    const doc = await this.ofService(scope, serviceSid, number);
    return { ...toVirtualNumber(doc), inUse: (await this.sessionsOn(scope.accountId)).get(number) ?? 0 };
  }

  async list(request: RpcParsedRequestOf<typeof ListProxyNumbers>) {
    const { scope, serviceSid, page, pageSize } = request;
    const docs = await this.numbers.ofProxyService(scope, serviceSid, page * pageSize, pageSize + 1);
    const inUse = await this.sessionsOn(scope.accountId);
    return {
      numbers: docs.slice(0, pageSize).map((d) => ({ ...toVirtualNumber(d), inUse: inUse.get(d._id) ?? 0 })),
      more: docs.length > pageSize,
    };
  }

  async setReserved(scope: AccountScope, serviceSid: string, number: string, isReserved: boolean) {
    // Written only while still the Service's and its owner's (a move may come between a look and the write).
    if (!(await this.numbers.updateHeld(scope, number, { isReserved }, serviceSid))) {
      throw notOfService(number, serviceSid);
    }
    this.pool.invalidate(scope.accountId);
    return this.get(scope, serviceSid, number);
  }

  async unassign(scope: AccountScope, serviceSid: string, number: string): Promise<void> {
    const unassigned = { proxyServiceSid: null, isReserved: false };
    if (!(await this.numbers.updateHeld(scope, number, unassigned, serviceSid))) {
      throw notOfService(number, serviceSid);
    }
    await this.claims.release(scope.accountId, number, serviceSid);
    this.pool.invalidate(scope.accountId);
  }

  async unassignAll(scope: AccountScope, serviceSid: string): Promise<number> {
    const numbers = await this.numbers.unassignService(scope.accountId, serviceSid);
    for (const n of numbers) await this.claims.release(scope.accountId, n, serviceSid);
    this.pool.invalidate(scope.accountId);
    return numbers.length;
  }

  /** An active number this caller may use (a subaccount: only its own). */
  private async visible(scope: AccountScope, number: string): Promise<VirtualNumberDocument | null> {
    const doc = await this.numbers.get(scope.accountId, number);
    const visible = doc && doc.status === 'active' && sameHolder(doc.subaccountId, scope.subaccountId);
    return visible ? doc : null;
  }

  private async ofService(scope: AccountScope, serviceSid: string, number: string) {
    const doc = await this.visible(scope, number);
    if (!doc || doc.proxyServiceSid !== serviceSid) throw notOfService(number, serviceSid);
    return doc;
  }

  /** Live sessions per number of the account (not those in cool-off; a session holds a number once per party). */
  private async sessionsOn(accountId: string): Promise<Map<string, number>> {
    const allocations = new Map<string, Set<string>>();
    for (const h of await this.holds.liveHolds(accountId)) {
      if (h.blockedUntil !== null) continue;
      let set = allocations.get(h.virtualNumber);
      if (!set) allocations.set(h.virtualNumber, (set = new Set()));
      set.add(h.allocationId);
    }
    return new Map([...allocations].map(([n, s]) => [n, s.size]));
  }
}

function notOfService(number: string, serviceSid: string): CodedError {
  return CodedError.notFound(`PhoneNumber ${number} is not a number of Service ${serviceSid}`);
}

function notAvailable(number: string, why: 'taken' | 'not-yours'): CodedError {
  return new CodedError(
    ProxyErrorCodes.NUMBER_NOT_AVAILABLE,
    why === 'taken'
      ? `PhoneNumber: ${number} serves another Service (a number serves one Service at a time)`
      : `PhoneNumber: ${number} is not in this account's numbers (add it with POST /v1/Account/{auth_id}/Number/ first)`,
    { field: 'PhoneNumber' },
  );
}
