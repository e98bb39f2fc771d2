import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { SystemWideQueries, isOnlyDuplicateKeyErrors } from '@maskline/persistence';
import type { AccountTally, TallyGroup } from './ended-day-tally';
import { EndedSessionTallyDocument } from './ended-session-tally.schema';

/** An account's document of a day's tally. */
const accountKey = (day: string, accountId: string) => `${day}:${accountId}`;

/**
 * Past days of ended sessions, tallied by account (`EndedSessionTallyDocument`): a list counts a
 * tallied day's sessions from its tally, where on FerretDB counting them was a scan of the day
 * (seven days' counts took a list past its deadline at 100,000 ended sessions). A list reads its
 * account's documents of the days it lists and the days' own, by `_id`, in one query (on FerretDB a
 * scan of this collection: a document per account and day, each at most TALLY_GROUPS_MAX groups and
 * TALLY_STARTS_MAX packed starts, 3–4 characters each, about 400 KB at most):
 * nothing is held in memory, so a day whose own document is deleted is tallied again by the next
 * sweep and trusted by no replica meanwhile.
 */
@Injectable()
export class EndedSessionTallies {
  private readonly queries: SystemWideQueries<EndedSessionTallyDocument>;

  constructor(
    @InjectModel(EndedSessionTallyDocument.name) private readonly model: Model<EndedSessionTallyDocument>,
  ) {
    this.queries = new SystemWideQueries(model);
  }

  /**
   * The account's groups of those of `days` (collection names) that were tallied (none: it had no
   * session end that day); a day the account had too many groups to tally is left out.
   */
  async of(days: readonly string[], accountId: string): Promise<Map<string, readonly TallyGroup[]>> {
    const docs = await this.queries.find({
      _id: { $in: days.flatMap((d) => [d, accountKey(d, accountId)]) },
    });
    const tallied = new Map<string, readonly TallyGroup[]>();
    for (const doc of docs) if (doc._id === doc.day) tallied.set(doc.day, []);
    for (const doc of docs) {
      if (doc._id === doc.day || !tallied.has(doc.day)) continue;
      if (doc.tooMany) tallied.delete(doc.day);
      else tallied.set(doc.day, doc.groups);
    }
    return tallied;
  }

  /** Which of `days` were tallied. */
  async talliedOf(days: readonly string[]): Promise<Set<string>> {
    return new Set((await this.queries.find({ _id: { $in: [...days] } }, {}, ['_id'])).map((d) => d._id));
  }

  /**
   * A day's tally: each account's document, then the day's own. Insert-only: a writer stopped
   * half-way left no day's document, so the day is tallied again (what it wrote is kept: the same
   * counts); two writers at once count the same day, and the second's writes are no-ops. Nothing
   * here deletes a day's documents but the retention sweep (`forgetBefore`), so no list ever finds a
   * day's document without its accounts'. To tally a day again, delete all of it (`{ day }`).
   */
  async keep(day: string, accounts: readonly AccountTally[], at: Date): Promise<void> {
    await this.insertAll(
      accounts.map(({ accountId, groups }) => ({
        _id: accountKey(day, accountId),
        day,
        groups: groups === 'too many' ? [] : groups,
        tooMany: groups === 'too many',
        talliedAt: at,
      })),
    );
    await this.insertAll([{ _id: day, day, groups: [], tooMany: false, talliedAt: at }]);
  }

  /** The retention sweep: the tallies of days before `day` (dropped, or no longer trusted). */
  forgetBefore(day: string): Promise<number> {
    return this.queries.deleteMany({ _id: { $lt: day } });
  }

  private async insertAll(docs: EndedSessionTallyDocument[]): Promise<void> {
    if (docs.length === 0) return;
    try {
      await this.model.insertMany(docs, { ordered: false, throwOnValidationError: true });
    } catch (err) {
      if (!isOnlyDuplicateKeyErrors(err)) throw err;
    }
  }
}
