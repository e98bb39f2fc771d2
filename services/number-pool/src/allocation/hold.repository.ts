import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AccountScopedRepository, isDuplicateKeyError } from '@maskline/persistence';
import { LIVE, type Hold } from './hold';
import { HoldDocument } from './hold.schema';

/**
 * Holds, one per party of a session on a virtual number. A hold belongs to an account, but the
 * pair (virtual number, party) it blocks is the carrier's: a hold left by the number's previous
 * owner still blocks the pair. So the pair lookups and the cool-off's end are system-wide, by name.
 */
@Injectable()
export class HoldRepository extends AccountScopedRepository<HoldDocument> {
  constructor(@InjectModel(HoldDocument.name) model: Model<HoldDocument>) {
    super(model);
  }

  /** False when the pair already has a live hold (the unique index refused it). */
  insert(hold: Hold): Promise<boolean> {
    return this.insertUnlessTaken({ ...hold, sessionId: hold.allocationId });
  }

  async remove(accountId: string, holdId: string): Promise<void> {
    await this.deleteScoped({ accountId, _id: holdId });
  }

  /** Marks the account's hold released (and, with no cool-off, retired). */
  async update(accountId: string, holdId: string, set: Partial<Hold>): Promise<void> {
    await this.tolerateNewerHold(() => this.updateOneScoped({ accountId, _id: holdId }, { $set: set }));
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

  /** Frees the pair once its cool-off is over, whoever's hold it was. */
  async retireSystemWide(holdId: string, at: Date): Promise<void> {
    await this.tolerateNewerHold(() =>
      this.systemWide.updateById(holdId, { $set: { liveMarker: holdId, retiredAt: at } }),
    );
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

  /** Utilization of one account: its live holds. Served by `{ accountId, liveMarker }`. */
  async liveOfAccount(accountId: string): Promise<Hold[]> {
    return (await this.findScoped({ accountId, liveMarker: LIVE })).map(asHold);
  }

  /** Utilization metrics across accounts (a scan, never on the allocation path). */
  async liveSystemWide(): Promise<Hold[]> {
    return (await this.systemWide.find({ liveMarker: LIVE })).map(asHold);
  }

  /**
   * An update keyed by the hold's UUID. If a concurrent write already retired it and a newer hold
   * holds the pair, the store refuses to make this one live again (unique index): that is fine,
   * the newer hold is the truth.
   */
  private async tolerateNewerHold(write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
  }
}

/** A stored hold as the allocator knows it (one written by release 0.1.0 names its allocation `sessionId`). */
function asHold({ sessionId, ...doc }: HoldDocument): Hold {
  return { ...doc, allocationId: doc.allocationId ?? (sessionId as string) };
}
