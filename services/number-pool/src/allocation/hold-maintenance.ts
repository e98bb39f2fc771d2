import { Inject, Injectable } from '@nestjs/common';
import { InvalidatedCache } from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import type { Hold } from './hold';
import { AllocationRepository } from './allocation.repository';
import { HoldRepository } from './hold.repository';
import { HOLD_STORE } from './hold-store.token';
import { retireHolds } from './hold-retirement';
import type { HoldStore } from './hold-store.port';

/**
 * How long a process keeps looking for an earlier release's pair-hint markers after it last found
 * one (or, finding none, after it started): a rollout's old replicas write more until they are gone.
 */
export const MARKER_SWEEP_FOR_MS = 3_600_000;

/**
 * Background upkeep of the holds collection, off the allocation path. Every step is idempotent,
 * so all replicas may run it at once.
 */
@Injectable()
export class HoldMaintenance {
  /** The id after which the next stray check goes on. */
  private strayCursor = '';
  /** The pair hint after which the next sweep for an earlier release's markers goes on. */
  private markerCursor = 0;
  /** Markers removed since the sweep last read to the last hint. */
  private markersThisPass = 0;
  /** The sweep for an earlier release's markers is over (`removeLeftPairMarkers`). */
  private markersDone = false;
  /** When the sweep last removed a marker (its start until then). */
  private markerLastFoundAt: number;
  /** Reads of an account's live holds under way, shared by the requests that come meanwhile; none kept. */
  private readonly accountReads = new InvalidatedCache<string, Hold[]>({ ttlMs: 0, maxEntries: 1 });

  constructor(
    private readonly holds: HoldRepository,
    private readonly allocations: AllocationRepository,
    @Inject(HOLD_STORE) private readonly store: HoldStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.markerLastFoundAt = clock();
  }

  /** Retires live holds whose cool-off has ended, freeing their pairs. */
  async retireExpired(now: Date, limit: number): Promise<number> {
    const due = await this.holds.dueForRetirementSystemWide(now, limit);
    await retireHolds(this.store, due, now);
    return due.length;
  }

  /**
   * Removes what an earlier release left of cleared pair hints (`HoldStore.removeLeftMarkers`) among
   * the next `atMost` hints, going on each call from where the last stopped (a call that fails
   * reads its slice again): how many it removed. Once through, each call reads only the hints
   * written since, so markers that replicas of an earlier release write during a rollout go too;
   * once a pass to the last hint found none, MARKER_SWEEP_FOR_MS after it last found one (or after
   * the process started), it stops.
   */
  async removeLeftPairMarkers(atMost: number): Promise<number> {
    if (this.markersDone) return 0;
    const { removed, next, atEnd } = await this.store.removeLeftMarkers(this.markerCursor, atMost);
    this.markerCursor = next;
    this.markersThisPass += removed;
    if (removed > 0) this.markerLastFoundAt = this.clock();
    if (atEnd) {
      this.markersDone =
        this.markersThisPass === 0 && this.clock() - this.markerLastFoundAt >= MARKER_SWEEP_FOR_MS;
      this.markersThisPass = 0;
    }
    return removed;
  }

  /**
   * Deletes retired holds (retired before `holdsRetiredBefore`) and released allocations (released
   * before `allocationsReleasedBefore`).
   */
  async purge(holdsRetiredBefore: Date, allocationsReleasedBefore: Date, limit: number): Promise<number> {
    return (
      (await this.holds.purgeRetiredSystemWide(holdsRetiredBefore, limit)) +
      (await this.allocations.purgeReleasedSystemWide(allocationsReleasedBefore, limit))
    );
  }

  /**
   * The next `limit` active holds for the stray check (AllocationService.releaseStrays), in turn:
   * each run goes on from where the last stopped, so every hold is looked at within a few runs
   * however many are live, and a run asks KV about at most `limit` allocations.
   */
  async nextActiveHolds(limit: number): Promise<Hold[]> {
    const batch = await this.holds.activeAfterSystemWide(this.strayCursor, limit);
    if (batch.length < limit && this.strayCursor !== '') {
      // The end was reached: the turn goes on from the start, up to where this one began.
      const from = this.strayCursor;
      const wrapped = await this.holds.activeAfterSystemWide('', limit - batch.length);
      batch.push(...wrapped.filter((h) => h._id <= from));
    }
    this.strayCursor = batch.length === limit ? (batch.at(-1)?._id ?? '') : '';
    return batch;
  }

  /**
   * Frees the pairs an account's ended sessions keep cooling off on a number that is no longer its
   * own (taken by an account its provider confirms holds it), or, given the number's new `holder`
   * within the account (a subaccount, null: the main account), those of its other holders': their
   * cool-off kept those phones from the old holder's later sessions, and would now keep them only
   * from the new one's. The holder's own (its allocation record says whose) stay. How many.
   */
  async retireCoolingOff(accountId: string, virtualNumber: string, holder?: string | null): Promise<number> {
    const now = new Date(this.clock());
    const all = (await this.holds.liveOnNumber(accountId, virtualNumber)).filter(
      (h) => h.blockedUntil !== null,
    );
    // A record of an earlier release does not say whose: freed, as a former holder's.
    const holders =
      holder === undefined
        ? []
        : await Promise.all(
            all.map(async (h) => (await this.store.allocation(accountId, h.allocationId))?.subaccountId),
          );
    const cooling = holder === undefined ? all : all.filter((_, i) => holders[i] !== holder);
    await retireHolds(this.store, cooling, now);
    return cooling.length;
  }

  /** Whether a session of the account (or its cool-off) holds the number now. */
  async holdsNumber(accountId: string, virtualNumber: string): Promise<boolean> {
    const now = this.clock();
    return (await this.holds.liveOnNumber(accountId, virtualNumber)).some((h) => blocksNow(h, now));
  }

  /**
   * Live holds blocking their pair now, of one account or (for metrics) of all. "Now" is the
   * service's clock, the one allocation decides cool-offs by: utilization read by another clock
   * disagreed with the allocator about a cool-off's end. An account's are read once at a time on
   * this replica: requests that come while a read runs share it (it began at most one read's time
   * before them). Each read is every live hold of the account (200,000 at its session limit; on
   * FerretDB a scan of every account's), and the API's utilization and Proxy PhoneNumbers, which ask
   * for it, answer up to the account's request rate: one request each was one such read each.
   */
  async liveHolds(
    accountId?: string,
  ): Promise<Array<Pick<Hold, 'accountId' | 'virtualNumber' | 'party' | 'allocationId' | 'blockedUntil'>>> {
    const rows = accountId
      ? await this.accountReads.get(accountId, () => this.holds.liveOfAccount(accountId))
      : await this.holds.liveSystemWide();
    const now = this.clock();
    return rows.filter((h) => blocksNow(h, now));
  }
}

/** A live hold blocks its pair until its cool-off, if it has one, has ended. */
function blocksNow(h: Pick<Hold, 'blockedUntil'>, now: number): boolean {
  return h.blockedUntil === null || h.blockedUntil.getTime() > now;
}
