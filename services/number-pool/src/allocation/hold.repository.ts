import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import {
  AccountScopedRepository,
  STATEMENT_BATCH,
  StatementBatcher,
  latestOf,
  type ScopedKey,
} from '@maskline/persistence';
import { LIVE, type Hold } from './hold';
import { HoldDocument } from './hold.schema';

/**
 * Holds, one per party of a session on a virtual number. A hold belongs to an account, but the
 * pair (virtual number, party) it blocks is the carrier's: a hold left by the number's previous
 * owner still blocks the pair. So the pair lookups and the cool-off's end are system-wide, by name.
 */
@Injectable()
export class HoldRepository extends AccountScopedRepository<HoldDocument> {
  /** Release statements by cool-off length (see release). */
  private readonly releases = new Map<number, StatementBatcher<ScopedKey & { at: Date }>>();
  private readonly retirements: StatementBatcher<ScopedKey>;
  private readonly retirementsSystemWide: StatementBatcher<string>;

  constructor(@InjectModel(HoldDocument.name) model: Model<HoldDocument>) {
    super(model);
    this.retirements = new StatementBatcher<ScopedKey>(
      (keys) => this.deleteEachScoped(keys),
      STATEMENT_BATCH,
    );
    this.retirementsSystemWide = new StatementBatcher<string>(
      (ids) => this.systemWide.deleteByIds(ids),
      STATEMENT_BATCH,
    );
  }

  /** False when the pair already has a live hold (the unique index refused it). */
  insert(hold: Hold): Promise<boolean> {
    return this.insertUnlessTaken({ ...hold, sessionId: hold.allocationId });
  }

  async remove(accountId: string, holdId: string): Promise<void> {
    await this.deleteScoped({ accountId, _id: holdId });
  }

  /**
   * Marks the account's hold released, blocking its pair for the cool-off. The releases that arrive
   * together go in one statement per cool-off length, timed by the latest of them: a few
   * milliseconds more of cool-off for the earlier ones.
   */
  release(accountId: string, holdId: string, cooloffSeconds: number, at: Date): Promise<void> {
    let batcher = this.releases.get(cooloffSeconds);
    if (!batcher) {
      batcher = new StatementBatcher<ScopedKey & { at: Date }>(async (items) => {
        const releasedAt = latestOf(items.map((i) => i.at));
        const blockedUntil = new Date(releasedAt.getTime() + cooloffSeconds * 1000);
        await this.updateEachScoped(items, { $set: { releasedAt, blockedUntil } });
      }, STATEMENT_BATCH);
      this.releases.set(cooloffSeconds, batcher);
    }
    return batcher.run({ accountId, _id: holdId, at });
  }

  /**
   * Ends the account's hold: its pair is free. A retired hold is nothing anybody reads, so it is
   * deleted; the deletions that arrive together go in one statement.
   */
  retire(accountId: string, holdId: string): Promise<void> {
    return this.retirements.run({ accountId, _id: holdId });
  }

  /** Ends a hold whose cool-off is over, whoever's it is (the pair is the carrier's): as `retire`. */
  retireSystemWide(holdId: string): Promise<void> {
    return this.retirementsSystemWide.run(holdId);
  }

  /** The account's live holds under an allocation id. Served by `{ allocationId }`. */
  async liveOfAllocation(accountId: string, allocationId: string): Promise<Hold[]> {
    return (
      await this.findScoped({ accountId, allocationId, liveMarker: LIVE }, { limit: 10, offset: 0 })
    ).map(asHold);
  }

  /** The pair's live hold, whoever's it is. Served by the unique pair index. */
  async liveOnPairSystemWide(virtualNumber: string, party: string): Promise<Hold | null> {
    const [live] = await this.systemWide.find({ virtualNumber, party, liveMarker: LIVE }, { limit: 1 });
    return live ? asHold(live) : null;
  }

  /** The reaper: live holds whose cool-off has ended. Served by `{ liveMarker, blockedUntil }`. */
  async dueForRetirementSystemWide(now: Date, limit: number): Promise<Hold[]> {
    return (
      await this.systemWide.find({ liveMarker: LIVE, blockedUntil: { $ne: null, $lte: now } }, { limit })
    ).map(asHold);
  }

  /** The purge: retired holds older than the retention. Served by `{ retiredAt }`. */
  async purgeRetiredSystemWide(olderThan: Date, limit: number): Promise<number> {
    const old = await this.systemWide.find({ retiredAt: { $ne: null, $lte: olderThan } }, { limit });
    return this.systemWide.deleteByIds(old.filter((h) => h.liveMarker !== LIVE).map((h) => h._id));
  }

  /**
   * Live holds not released (blocking for their session, not a cool-off), across accounts: the first
   * `limit` after `afterId` in `_id` order (a page of the stray check). Served by
   * `{ liveMarker, blockedUntil, _id }`.
   */
  async activeAfterSystemWide(afterId: string, limit: number): Promise<Hold[]> {
    return (
      await this.systemWide.find(
        { liveMarker: LIVE, blockedUntil: null, _id: { $gt: afterId } },
        { sort: { _id: 1 }, limit },
      )
    ).map(asHold);
  }

  /** Utilization of one account: its live holds. Served by `{ accountId, liveMarker }`. */
  async liveOfAccount(accountId: string): Promise<Hold[]> {
    return (await this.findScoped({ accountId, liveMarker: LIVE })).map(asHold);
  }

  /** The account's live holds on one number (whether it may change hands). */
  async liveOnNumber(accountId: string, virtualNumber: string): Promise<Hold[]> {
    return (await this.findScoped({ accountId, virtualNumber, liveMarker: LIVE })).map(asHold);
  }

  /** Utilization metrics across accounts (a scan, never on the allocation path). */
  async liveSystemWide(): Promise<Hold[]> {
    return (await this.systemWide.find({ liveMarker: LIVE })).map(asHold);
  }
}

/** A stored hold as the allocator knows it (one written by release 0.1.0 names its allocation `sessionId`). */
function asHold({ sessionId, ...doc }: HoldDocument): Hold {
  return { ...doc, allocationId: doc.allocationId ?? (sessionId as string) };
}
