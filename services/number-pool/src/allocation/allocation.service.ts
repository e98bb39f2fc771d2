import { Inject, Injectable } from '@nestjs/common';
import {
  CodedError,
  ErrorCodes,
  PoolErrorCodes,
  type AccountScope,
  type AllocateNumber,
  type RpcParsedRequestOf,
} from '@maskline/contracts';
import { backoffWithJitter } from '@maskline/messaging';
import { MetricsService } from '@maskline/observability';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { NUMBER_POOL_CONFIG, type NumberPoolConfig } from '../config/number-pool.config';
import { CandidatePool } from '../inventory/candidate-pool';
import { InventoryService } from '../inventory/inventory.service';
import { originOf } from '../inventory/phone-number';
import { HOLD_STORE } from './hold-store.token';
import { retireHolds } from './hold-retirement';
import type { HoldStore } from './hold-store.port';
import type { AllocationRecord, Hold } from './hold';
import { ExhaustionCounter } from '../utilization/exhaustion-counter';
import { NumberAllocator } from './number-allocator';

/** Allocator refusals that a record of the same allocation, written by an earlier attempt, explains. */
const REFUSALS_A_RECORD_MAY_EXPLAIN = new Set<string>([PoolErrorCodes.EXHAUSTED, PoolErrorCodes.CONTENDED]);

/**
 * How long an attempt that found every number held waits for a sibling attempt of its allocation
 * (claims under the same id, no record yet) to record it: well within the caller's 5 s.
 */
const SIBLING_RECORD_WAIT_MS = 2_000;
/** A sibling's claims this young may still be recorded: the caller gives an allocation 5 s. */
const SIBLING_CLAIM_FRESH_MS = 5_000;

/** The number of an allocation released before it was recorded (a tombstone). */
const NEVER_ALLOCATED = 'none';
/** Reads of an allocation a party's add makes while other writes keep changing it (a release ends it at once). */
const ADD_PARTY_TRIES = 3;

@Injectable()
export class AllocationService {
  private readonly allocator: NumberAllocator;
  private readonly outcomes;
  private readonly exhausted;
  private readonly latency;

  constructor(
    @Inject(HOLD_STORE) private readonly store: HoldStore,
    private readonly pool: CandidatePool,
    private readonly inventory: InventoryService,
    @Inject(NUMBER_POOL_CONFIG) config: NumberPoolConfig,
    metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly exhaustions: ExhaustionCounter,
  ) {
    this.allocator = new NumberAllocator(store, {
      strategy: 'first-fit',
      maxAttempts: config.ALLOCATOR_MAX_ATTEMPTS,
      now: () => new Date(clock()),
      random: Math.random,
    });
    this.outcomes = metrics.counter('maskline_pool_allocations_total', 'Allocations by outcome', ['outcome']);
    this.exhausted = metrics.counter(
      'maskline_pool_exhausted_total',
      'Allocations refused because no number fits',
      ['reason'],
    );
    this.latency = metrics.histogram('maskline_pool_allocation_seconds', 'Time to allocate a virtual number');
  }

  /** Idempotent per allocation: a retry returns the number the first call chose. */
  async allocate(request: RpcParsedRequestOf<typeof AllocateNumber>) {
    const { scope, allocationId, parties } = request;
    // A retry, or a release that came first, finds its record in KV. A record only the store holds
    // (a crash between its two writes) makes this allocation's own record insert lose, below.
    const previous = await this.store.knownAllocation(scope.accountId, allocationId);
    if (previous) return this.previousResult(previous.virtualNumber, previous.releasedAt);

    await this.refuseOwnNumbers(scope.accountId, parties);
    const end = this.latency.startTimer();
    const origin = originOf(parties[0]);
    if (request.geomatch && !origin) {
      throw CodedError.validation('first_party', 'first_party has no country to geomatch on');
    }
    const needs = request.needs ?? ['voice'];
    const candidates = await this.pool.candidates(
      scope.accountId,
      scope.subaccountId ?? null,
      origin,
      request.geomatch,
      needs,
      request.proxy ? { ...request.proxy, party: parties[0] } : undefined,
    );
    try {
      const allocation = await this.allocateOrRecall(scope.accountId, allocationId, {
        accountId: scope.accountId,
        allocationId,
        parties,
        candidates,
        exclude: new Set(request.excludeNumbers),
        cooloffSeconds: request.cooloffSeconds,
        poolLabel: `${request.proxy ? `of Service ${request.proxy.serviceSid}${request.proxy.pinned ? ` (${request.proxy.pinned})` : ''} ` : ''}${request.geomatch ? `in ${origin?.country} (+${origin?.callingCode})` : 'in any country'}${request.proxy?.areaCode ? ' in the party’s area code' : ''}${needs.includes('sms') ? ' that takes text messages' : ''}`,
        stillActive: (n) =>
          this.inventory.takesNewSessions(scope.accountId, scope.subaccountId ?? null, n, needs, {
            serviceSid: request.proxy?.serviceSid ?? null,
            reservedAllowed: request.proxy?.pinned === n,
          }),
      });
      if ('recalled' in allocation) return allocation.recalled;
      // If this throws, the record may have been written all the same (its KV copy not, or its
      // answer lost), so the claim is kept: a retry under this id answers the record's number with
      // its holds live, never a number whose pair is free for another session. The caller, which
      // counts a failed allocation as possibly made, releases it (the record's holds, or, with no
      // record, the holds claimed under the id).
      const recorded = await this.store.insertAllocation({
        _id: allocationId,
        accountId: scope.accountId,
        virtualNumber: allocation.virtualNumber,
        holdIds: allocation.holds.map((h) => h._id),
        parties: [...parties],
        cooloffSeconds: request.cooloffSeconds,
        releasedAt: null,
        createdAt: new Date(this.clock()),
        subaccountId: scope.subaccountId ?? null,
      });
      if (!recorded) {
        // Another attempt of this allocation was recorded first, or a release that came first:
        // give our claim back and answer as the record does.
        await this.allocator.withdraw(allocation.holds);
        const winner = await this.store.allocation(scope.accountId, allocationId);
        // No record of this account under the id: another account's allocation holds it.
        if (!winner) throw new CodedError(ErrorCodes.CONFLICT, 'allocation id already in use');
        return this.previousResult(winner.virtualNumber, winner.releasedAt);
      }
      this.outcomes.inc({ outcome: 'allocated' });
      return {
        virtualNumber: allocation.virtualNumber,
        country: originOf(allocation.virtualNumber)?.country ?? 'ZZ',
      };
    } catch (err) {
      if (err instanceof CodedError && err.code === PoolErrorCodes.EXHAUSTED) {
        this.exhausted.inc({ reason: String(err.details?.reason ?? 'unknown') });
        this.exhaustions.count(scope.accountId, scope.subaccountId ?? null, this.clock());
      }
      this.outcomes.inc({ outcome: err instanceof CodedError ? err.code : 'error' });
      throw err;
    } finally {
      end();
    }
  }

  /**
   * The allocator's choice; or, when it finds nothing, the answer of a record the store holds under
   * the id and KV lacks (a retry whose parties' numbers are held by its own first attempt). While
   * another attempt of this allocation holds claims under the id and has not recorded it yet (attempts
   * sent at once: each may hold one of the numbers, and this one finds them all held by its parties),
   * the record is looked for again, up to SIBLING_RECORD_WAIT_MS, while those claims are fresh
   * (SIBLING_CLAIM_FRESH_MS): such an attempt records the allocation or gives its claim back, unless
   * its record failed (its claim then kept for the caller's release). Still unrecorded at the end of
   * the wait: CONTENDED, retryable, not "every number is held". Only on this refusal's path: an
   * allocation that finds a number reads nothing more.
   */
  private async allocateOrRecall(
    accountId: string,
    allocationId: string,
    request: Parameters<NumberAllocator['allocate']>[0],
  ): Promise<
    | Awaited<ReturnType<NumberAllocator['allocate']>>
    | { recalled: { virtualNumber: string; country: string } }
  > {
    try {
      return await this.allocator.allocate(request);
    } catch (err) {
      if (!(err instanceof CodedError) || !REFUSALS_A_RECORD_MAY_EXPLAIN.has(err.code)) throw err;
      const until = Date.now() + SIBLING_RECORD_WAIT_MS;
      for (let look = 1; ; look++) {
        const recorded = await this.store.allocation(accountId, allocationId);
        if (recorded) return { recalled: this.previousResult(recorded.virtualNumber, recorded.releasedAt) };
        // Only claims a sibling made moments ago may still be recorded; older ones (an attempt whose
        // record failed keeps its claim for the caller's release) never will: the refusal stands.
        const holds = await this.store.liveHoldsOf(accountId, allocationId);
        if (!holds.some((h) => this.clock() - h.createdAt.getTime() < SIBLING_CLAIM_FRESH_MS)) throw err;
        if (Date.now() >= until) {
          throw new CodedError(
            PoolErrorCodes.CONTENDED,
            'another attempt of this allocation holds its numbers and has not recorded it; retry',
            { retryable: true },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, backoffWithJitter(look, 10, 100)));
      }
    }
  }

  /**
   * Adds a party to a live allocation (a session's second party). The record is written by
   * compare-and-set against what was read (`HoldStore.addPartyToAllocation`): a release between the
   * read and the write is never undone by it, and a record changed meanwhile is read again, as its
   * leader holds it. A hold claimed here that no attempt can record any more (the allocation
   * released, or holding two other parties) is taken back at once: it was never a session's. One
   * left when the attempts run out is this allocation's own: an add asked again claims it again
   * (`NumberAllocator.claimParty`), and once the allocation is released the stray check releases it.
   */
  async addParty(scope: AccountScope, allocationId: string, party: string) {
    let record = await this.store.allocation(scope.accountId, allocationId);
    for (let attempt = 1; ; attempt++) {
      if (!record || record.releasedAt) throw noLiveAllocation(allocationId);
      if (record.parties.includes(party)) return { virtualNumber: record.virtualNumber };
      // Its number taken by another account since (a takeover), or moved to another of the account's
      // owners (a subaccount, the main account): no party is claimed on it, and the answer is the same
      // whoever else holds which phone there (session-service ends such sessions).
      if (!(await this.inventory.servesAllocation(record))) throw noLiveAllocation(allocationId);
      if (record.parties.length >= 2) throw sessionFull();
      await this.refuseOwnNumbers(scope.accountId, [party]);
      const hold = await this.allocator.claimParty(
        scope.accountId,
        allocationId,
        record.virtualNumber,
        party,
        record.cooloffSeconds,
      );
      if (await this.store.addPartyToAllocation(record, hold._id, party)) {
        return { virtualNumber: record.virtualNumber };
      }
      record = await this.store.allocation(scope.accountId, allocationId, { fresh: true });
      if (record && !record.releasedAt && record.parties.includes(party)) {
        return { virtualNumber: record.virtualNumber };
      }
      if (!record || record.releasedAt || record.parties.length >= 2) {
        await this.allocator.withdraw([hold]);
        continue; // answered as the record now is
      }
      if (attempt >= ADD_PARTY_TRIES) {
        throw new CodedError(
          PoolErrorCodes.CONTENDED,
          'the allocation kept changing while a party was added; retry',
          { retryable: true },
        );
      }
    }
  }

  /**
   * Refuses a party that is one of the account's own virtual numbers: a call or text relayed to it
   * comes back in through Maskline as a party's of another session on it, and sessions naming each
   * other's numbers relay one text round and round, at the account's cost, for as long as they live.
   * (Another account's number is not refused: that would tell the caller which numbers Maskline
   * serves; the routers refuse what comes in from any of them.)
   */
  private async refuseOwnNumbers(accountId: string, parties: readonly string[]): Promise<void> {
    const owned = await Promise.all(parties.map((party) => this.inventory.owns(accountId, party)));
    const partyIndex = owned.indexOf(true);
    if (partyIndex < 0) return;
    throw new CodedError(
      PoolErrorCodes.PARTY_IS_VIRTUAL_NUMBER,
      "a party must not be one of this account's virtual numbers",
      { field: 'party', details: { partyIndex } },
    );
  }

  /**
   * Ends the session's holds (each pair then sits out its cool-off; none when the number has changed
   * hands: `cooloffOf`). Idempotent.
   */
  async release(scope: AccountScope, allocationId: string): Promise<number> {
    let record = await this.store.allocation(scope.accountId, allocationId);
    const now = new Date(this.clock());
    if (!record) {
      // Released before it was recorded: an allocation still running (its caller gave up waiting),
      // or one that failed after claiming holds. A released record under the id makes a late
      // allocation give its holds back (its insert of the record loses); then the holds claimed
      // under the id so far are released.
      const tombstone: AllocationRecord = {
        _id: allocationId,
        accountId: scope.accountId,
        virtualNumber: NEVER_ALLOCATED,
        holdIds: [],
        parties: [],
        cooloffSeconds: 0,
        releasedAt: now,
        createdAt: now,
      };
      if (await this.store.insertAllocation(tombstone))
        return this.releaseUnreleased(scope, allocationId, now);
      // The allocation was recorded meanwhile (or the id is another account's).
      record = await this.store.allocation(scope.accountId, allocationId);
      if (!record) return 0;
    }
    // A tombstone already: a release that stopped part-way is finished (idempotent).
    if (record.virtualNumber === NEVER_ALLOCATED) return this.releaseUnreleased(scope, allocationId, now);
    if (record.releasedAt) return 0;
    const holds = record.holdIds.map((holdId, i) => ({
      _id: holdId,
      accountId: record.accountId,
      virtualNumber: record.virtualNumber,
      party: record.parties[i],
      allocationId,
    }));
    await this.releaseHolds(holds, record, now);
    // The parties' numbers go with the release: a released record only answers retries.
    await this.store.releaseAllocation(record, now);
    return record.holdIds.length;
  }

  /**
   * Releases at once the holds claimed under the id and not yet released (a late allocation's). Holds
   * already released keep their cool-off: a release retried after KV forgot the allocation's released
   * record (bounded, it forgets its oldest first) finds no record and tombstones the id, and must not
   * then cut short the cool-off of the pairs its first release blocked.
   */
  private async releaseUnreleased(scope: AccountScope, allocationId: string, now: Date): Promise<number> {
    const claimed = (await this.store.liveHoldsOf(scope.accountId, allocationId)).filter(
      (h) => h.blockedUntil === null,
    );
    await this.allocator.release(claimed, 0, now);
    return claimed.length;
  }

  /**
   * Releases, of these holds, those whose allocation is recorded as released: a claim the store
   * carried out after its allocation had given up (a command past its deadline that ran once the
   * store resumed, a dropped connection) and been released. They are released as the allocation
   * was (its cool-off, from its release), so a late write never holds a pair for ever. Returns how
   * many.
   */
  async releaseStrays(holds: readonly Hold[]): Promise<number> {
    let released = 0;
    const checked = new Set<string>();
    for (const h of holds) {
      if (checked.has(h.allocationId)) continue;
      checked.add(h.allocationId);
      // KV's copy, or the store's when KV has forgotten it (bounded, it forgets its oldest first): a
      // release that came before its allocation left a released record in both.
      const record = await this.store.allocation(h.accountId, h.allocationId);
      if (!record?.releasedAt) continue;
      // Read again: the hold seen a moment ago may be one its own release has released since.
      const strays = (await this.store.liveHoldsOf(h.accountId, h.allocationId)).filter(
        (live) => live.blockedUntil === null,
      );
      await this.releaseHolds(strays, record, record.releasedAt);
      released += strays.length;
    }
    return released;
  }

  /**
   * Releases an allocation's holds with its cool-off (`cooloffOf`), then looks at the number again:
   * a move to another holder between that look and the write retires its former holders' cool-offs
   * (InventoryService) and may have read the holds before this one was written. Whichever comes
   * second sees the other (the move's retirement this cool-off, or this look the move), so a
   * former holder's cool-off never outlives a move.
   */
  private async releaseHolds(
    holds: ReadonlyArray<Pick<Hold, '_id' | 'accountId' | 'virtualNumber' | 'party' | 'allocationId'>>,
    record: AllocationRecord,
    at: Date,
  ): Promise<void> {
    const cooloffSeconds = await this.cooloffOf(record);
    await this.allocator.release(holds, cooloffSeconds, at);
    if (cooloffSeconds > 0 && !(await this.inventory.servesAllocation(record))) {
      await retireHolds(this.store, holds, new Date(this.clock()));
    }
  }

  /**
   * How long a released allocation's pairs sit out: its cool-off, unless its number is no longer its
   * holder's (taken by an account its provider confirms holds it, or moved to another of the
   * account's owners since it was allocated). Then none: the cool-off keeps a pair from another
   * session of the same owner, and held on, it would only keep the new holder from the phones the old
   * one had put on the number (and tell it which they were), for as long as the old one had chosen.
   */
  private async cooloffOf(record: AllocationRecord): Promise<number> {
    if (record.cooloffSeconds === 0) return 0;
    return (await this.inventory.servesAllocation(record)) ? record.cooloffSeconds : 0;
  }

  private previousResult(virtualNumber: string, releasedAt: Date | null) {
    if (virtualNumber === NEVER_ALLOCATED) {
      throw new CodedError(ErrorCodes.CONFLICT, 'this allocation was released before it completed');
    }
    if (releasedAt) throw new CodedError(ErrorCodes.CONFLICT, 'this session has already ended');
    return { virtualNumber, country: originOf(virtualNumber)?.country ?? 'ZZ' };
  }
}

const noLiveAllocation = (allocationId: string) => CodedError.notFound(`no live allocation ${allocationId}`);
const sessionFull = () => CodedError.validation('party', 'the session already has two parties');
