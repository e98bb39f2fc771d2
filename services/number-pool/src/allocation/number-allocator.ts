import { randomUUID } from 'node:crypto';
import { CodedError, PoolErrorCodes } from '@maskline/contracts';
import { LIVE, isRetirable, type Hold } from './hold';
import type { HoldStore, PairHint } from './hold-store.port';

export type AllocationStrategy = 'first-fit' | 'random';

export interface AllocatorOptions {
  /** first-fit: the first free number in the pool's fixed order (packs sessions onto few numbers). */
  strategy: AllocationStrategy;
  maxAttempts: number;
  now: () => Date;
  random: () => number;
}

export interface AllocationRequest {
  accountId: string;
  allocationId: string;
  parties: string[];
  /** Candidate numbers in preference order (the pool's fixed order, same-country first). */
  candidates: readonly string[];
  exclude: ReadonlySet<string>;
  cooloffSeconds: number;
  /** Describes the pool in error messages, e.g. "in US". */
  poolLabel: string;
  /** Re-checks, just before claiming, that a number still takes new sessions. */
  stillActive?: (virtualNumber: string) => Promise<boolean>;
}

export interface Allocation {
  virtualNumber: string;
  holds: Hold[];
}

type Blocker = { kind: 'party'; index: number } | { kind: 'excluded' };

const PARTY_NAMES = ['first party', 'second party'];
const PROBE_BATCH = 8;

/**
 * Chooses a virtual number for a session and claims it for each party. Probes candidates by point
 * lookups, so the cost grows with the parties' live sessions (how far first-fit must look), not
 * with the total number of sessions. Claims are inserts that the store's unique index arbitrates;
 * a lost race means "try the next number".
 */
export class NumberAllocator {
  constructor(
    private readonly store: HoldStore,
    private readonly options: AllocatorOptions,
  ) {}

  async allocate(request: AllocationRequest): Promise<Allocation> {
    const blockers = new Map<string, Blocker>();
    for (const n of request.exclude) blockers.set(n, { kind: 'excluded' });
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      if (attempt > 1) await sleep(this.options.random() * 5 * attempt);
      const chosen = await this.choose(request, blockers, attempt);
      if (!chosen) throw this.exhausted(request, blockers);
      if (request.stillActive && !(await request.stillActive(chosen))) {
        blockers.set(chosen, { kind: 'excluded' });
        continue;
      }
      const claim = await this.claim(request, chosen);
      if (claim.ok) return { virtualNumber: chosen, holds: claim.holds };
      blockers.set(chosen, { kind: 'party', index: claim.conflictIndex });
    }
    throw new CodedError(
      PoolErrorCodes.CONTENDED,
      'too many concurrent allocations for these parties; try again',
      {
        retryable: true,
      },
    );
  }

  /** Claims one more party on a number (a single-party session gaining its second party). */
  async claimParty(
    accountId: string,
    allocationId: string,
    virtualNumber: string,
    party: string,
    cooloffSeconds: number,
  ) {
    const hold = this.newHold(accountId, allocationId, virtualNumber, party, cooloffSeconds);
    if (!(await this.insertOrReclaim(hold))) {
      // The pair's live hold is this allocation's own: claimed by an earlier attempt of this add,
      // which did not record it (its record write refused or failed). Claimed again, not a conflict.
      const live = await this.store.findLiveHold(virtualNumber, party);
      if (live?.accountId === accountId && live.allocationId === allocationId && live.blockedUntil === null) {
        return live;
      }
      throw new CodedError(
        PoolErrorCodes.PARTY_CONFLICT,
        `party already holds virtual number ${virtualNumber} in another live session`,
        { field: 'party' },
      );
    }
    await this.store.setPairHint(virtualNumber, party, liveHint(hold));
    return hold;
  }

  /**
   * Ends holds: each pair stays blocked for the cool-off (its hint says until when), or is freed
   * at once when there is none.
   */
  async release(
    holds: ReadonlyArray<Pick<Hold, '_id' | 'accountId' | 'virtualNumber' | 'party' | 'allocationId'>>,
    cooloffSeconds: number,
    at: Date,
  ): Promise<void> {
    for (const h of holds) {
      if (cooloffSeconds === 0) {
        // Freed at once: the hint first, then the hold (which then goes), as `retireHolds` does.
        await this.store.clearPairHint(h.virtualNumber, h.party, h._id);
        await this.store.releaseHold(h.accountId, h._id, cooloffSeconds, at);
        await this.store.clearPairHint(h.virtualNumber, h.party, h._id);
      } else {
        await this.store.releaseHold(h.accountId, h._id, cooloffSeconds, at);
        await this.store.setPairHint(h.virtualNumber, h.party, {
          holdId: h._id,
          allocationId: h.allocationId,
          blockedUntil: at.getTime() + cooloffSeconds * 1000,
        });
      }
    }
  }

  /**
   * Takes back claims that never became an allocation (another attempt of it won): hints, then holds
   * (a hint left by a hold gone would be found by nothing: see `retireHolds`).
   */
  async withdraw(holds: readonly Hold[]): Promise<void> {
    await Promise.all(
      holds.map(async (h) => {
        await this.store.clearPairHint(h.virtualNumber, h.party, h._id);
        await this.store.deleteHold(h.accountId, h._id);
        await this.store.clearPairHint(h.virtualNumber, h.party, h._id);
      }),
    );
  }

  /** Whether any of the parties holds the number (retiring holds whose cool-off has ended). */
  async blockingParty(virtualNumber: string, parties: readonly string[]): Promise<number> {
    const results = await Promise.all(parties.map((p) => this.isHeld(virtualNumber, p)));
    return results.findIndex(Boolean);
  }

  /**
   * First-fit: the first free number in the pool's order. After a lost race, the callers that
   * collided would all pick the same next number again, so a retry picks at random among the
   * first few free numbers, trading a little packing under contention for fewer collisions.
   */
  private async choose(
    request: AllocationRequest,
    blockers: Map<string, Blocker>,
    attempt: number,
  ): Promise<string | undefined> {
    const unknown = request.candidates.filter((n) => !blockers.has(n));
    if (this.options.strategy === 'random') {
      const free: string[] = [];
      for (let i = 0; i < unknown.length; i += PROBE_BATCH) {
        free.push(...(await this.probeBatch(unknown.slice(i, i + PROBE_BATCH), request.parties, blockers)));
      }
      return free.length === 0 ? undefined : free[Math.floor(this.options.random() * free.length)];
    }
    const spread = Math.min(attempt, 4);
    const found: string[] = [];
    // Probe one number first (usually free), then widen: 1, 2, 4, 8, 8, ... per round trip.
    let batch = 1;
    for (
      let i = 0;
      i < unknown.length && found.length < spread;
      i += batch, batch = Math.min(batch * 2, PROBE_BATCH)
    ) {
      found.push(...(await this.probeBatch(unknown.slice(i, i + batch), request.parties, blockers)));
    }
    if (found.length === 0) return undefined;
    return found[Math.floor(this.options.random() * Math.min(spread, found.length))];
  }

  /** Probes a batch in parallel; returns the free ones in order and records who blocks the rest. */
  private async probeBatch(batch: string[], parties: readonly string[], blockers: Map<string, Blocker>) {
    const verdicts = await Promise.all(batch.map((n) => this.blockingParty(n, parties)));
    const free: string[] = [];
    batch.forEach((n, i) => {
      if (verdicts[i] < 0) free.push(n);
      else blockers.set(n, { kind: 'party', index: verdicts[i] });
    });
    return free;
  }

  /**
   * Whether the pair is taken, from its hint: no hint means free, an active session means taken,
   * a cool-off means taken until it ends (then the hold is retired on the spot). A wrong hint
   * costs one refused insert, never a second live hold.
   */
  private async isHeld(virtualNumber: string, party: string): Promise<boolean> {
    const hint = await this.store.pairHint(virtualNumber, party);
    if (!hint) return false;
    if (hint.blockedUntil === null) return true;
    const now = this.options.now();
    if (hint.blockedUntil > now.getTime()) return true;
    // The cool-off is over: retire the hold now rather than wait for the reaper (its hint first).
    await this.store.clearPairHint(virtualNumber, party, hint.holdId);
    await this.store.retireHold(hint.holdId, now);
    await this.store.clearPairHint(virtualNumber, party, hint.holdId);
    return false;
  }

  private async claim(
    request: AllocationRequest,
    virtualNumber: string,
  ): Promise<{ ok: true; holds: Hold[] } | { ok: false; conflictIndex: number }> {
    const holds = request.parties.map((party) =>
      this.newHold(request.accountId, request.allocationId, virtualNumber, party, request.cooloffSeconds),
    );
    // The parties' claims go together (one store command when the store batches inserts). A refused
    // insert means the pair has a live hold the hint did not show (a concurrent claim): the number
    // is taken for that party, and the claims that went in are taken back. No scan on this path.
    const inserted = await Promise.all(holds.map((h) => this.store.insertHold(h)));
    const conflictIndex = inserted.indexOf(false);
    if (conflictIndex >= 0) {
      await Promise.all(
        holds.filter((_, i) => inserted[i]).map((h) => this.store.deleteHold(h.accountId, h._id)),
      );
      return { ok: false, conflictIndex };
    }
    await Promise.all(holds.map((h) => this.store.setPairHint(h.virtualNumber, h.party, liveHint(h))));
    return { ok: true, holds };
  }

  /**
   * Inserts the hold. On a conflict the pair's live hold is looked up (a secondary lookup: used
   * only where a conflict is an answer to the caller, never while searching for a number): if
   * its cool-off has ended it is retired and the insert tried once more; otherwise the pointer
   * is repaired and the claim fails.
   */
  private async insertOrReclaim(hold: Hold): Promise<boolean> {
    if (await this.store.insertHold(hold)) return true;
    const live = await this.store.findLiveHold(hold.virtualNumber, hold.party);
    const now = this.options.now();
    if (live && isRetirable(live, now)) {
      await this.store.retireHold(live._id, now);
      return this.store.insertHold(hold);
    }
    if (live) {
      await this.store.setPairHint(hold.virtualNumber, hold.party, liveHint(live));
      // Retired or withdrawn meanwhile (its hints cleared before this repair landed): the repair goes
      // too, or it would name a hold gone, found by nothing.
      const still = await this.store.findLiveHold(hold.virtualNumber, hold.party);
      if (still?._id !== live._id) await this.store.clearPairHint(hold.virtualNumber, hold.party, live._id);
    }
    return false;
  }

  private newHold(
    accountId: string,
    allocationId: string,
    virtualNumber: string,
    party: string,
    cooloffSeconds: number,
  ): Hold {
    return {
      _id: randomUUID(),
      accountId,
      allocationId,
      virtualNumber,
      party,
      liveMarker: LIVE,
      cooloffSeconds,
      createdAt: this.options.now(),
      releasedAt: null,
      blockedUntil: null,
      retiredAt: null,
    };
  }

  private exhausted(request: AllocationRequest, blockers: Map<string, Blocker>): CodedError {
    const details: Record<string, unknown> = {
      pool: request.poolLabel,
      candidates: request.candidates.length,
    };
    if (request.candidates.length === 0) {
      return new CodedError(
        PoolErrorCodes.EXHAUSTED,
        `no virtual number ${request.poolLabel} in this account's pool`,
        {
          details: { ...details, reason: 'empty-pool' },
        },
      );
    }
    const byParty = request.parties.map(
      (_, i) => [...blockers.values()].filter((b) => b.kind === 'party' && b.index === i).length,
    );
    const excluded = [...blockers.entries()].filter(
      ([n, b]) => b.kind === 'excluded' && request.candidates.includes(n),
    ).length;
    const heldBy = byParty
      .map((count, i) => (count > 0 ? `${PARTY_NAMES[i]} ${request.parties[i]} holds ${count}` : ''))
      .filter(Boolean);
    const single = byParty.findIndex((c) => c === request.candidates.length);
    const message =
      single >= 0
        ? `every virtual number ${request.poolLabel} is already held by ${PARTY_NAMES[single]} ${request.parties[single]} in a live session or cool-off`
        : `every virtual number ${request.poolLabel} is unavailable to these parties (${[
            ...heldBy,
            excluded > 0 ? `${excluded} excluded` : '',
          ]
            .filter(Boolean)
            .join('; ')})`;
    return new CodedError(PoolErrorCodes.EXHAUSTED, message, {
      details: {
        ...details,
        reason: single >= 0 ? 'held-by-party' : 'all-unavailable',
        heldByParty: byParty,
        excluded,
      },
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function liveHint(hold: Hold): PairHint {
  return {
    holdId: hold._id,
    allocationId: hold.allocationId,
    blockedUntil: hold.blockedUntil ? hold.blockedUntil.getTime() : null,
  };
}
