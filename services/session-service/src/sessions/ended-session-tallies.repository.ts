import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { SystemWideQueries, isOnlyDuplicateKeyErrors } from '@maskline/persistence';
import type { TallyGroup } from './ended-day-tally';
import { EndedSessionTallyDocument } from './ended-session-tally.schema';

/** An account's document of a day's tally. */
const accountKey = (day: string, accountId: string) => `${day}:${accountId}`;

/**
 * Past days of ended sessions, tallied by account (`EndedSessionTallyDocument`): a list counts a
 * tallied day's sessions from its tally, where on FerretDB counting them was a scan of the day
 * (seven days' counts took a list past its deadline at 100,000 ended sessions). A list reads its
 * account's documents of the days it lists and the days' own, by `_id`, in one query: nothing is
 * held in memory, so a tally deleted (an operator who wrote history into a past day) is made again
 * by the next sweep and trusted by no replica meanwhile.
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
   * session end that day); a day with too many groups to tally is left out.
   */
  async of(days: readonly string[], accountId: string): Promise<Map<string, readonly TallyGroup[]>> {
    const docs = await this.queries.find({
      _id: { $in: days.flatMap((d) => [d, accountKey(d, accountId)]) },
    });
    const tallied = new Map<string, readonly TallyGroup[]>();
    for (const doc of docs) if (doc._id === doc.day && !doc.tooMany) tallied.set(doc.day, []);
    for (const doc of docs) if (doc._id !== doc.day && tallied.has(doc.day)) tallied.set(doc.day, doc.groups);
    return tallied;
  }

  /** Which of `days` were tallied (those with too many groups to keep included). */
  async talliedOf(days: readonly string[]): Promise<Set<string>> {
    return new Set((await this.queries.find({ _id: { $in: [...days] } }, {}, ['_id'])).map((d) => d._id));
  }

  /**
   * A day's tally: each account's document, then the day's own. A second writer's are no-ops (it
   * counted the same day); a writer stopped half-way left no day's document, so the day is tallied
   * again.
   */
  async keep(day: string, groups: TallyGroup[] | 'too many', at: Date): Promise<void> {
    const tooMany = groups === 'too many';
    const byAccount = new Map<string, TallyGroup[]>();
    for (const g of tooMany ? [] : groups)
      byAccount.set(g.accountId, [...(byAccount.get(g.accountId) ?? []), g]);
    const docs = [...byAccount].map(([accountId, own]) => ({
      _id: accountKey(day, accountId),
      day,
      groups: own,
      tooMany: false,
      talliedAt: at,
    }));
    await this.insertAll(docs);
    await this.insertAll([{ _id: day, day, groups: [], tooMany, talliedAt: at }]);
  }

  /** The retention sweep: the tallies of days before `day` (dropped, or no longer trusted). */
  forgetBefore(day: string): Promise<number> {
    return this.queries.deleteMany({ _id: { $lt: day } });
  }

  private async insertAll(docs: EndedSessionTallyDocument[]): Promise<void> {
    if (docs.length === 0) return;
    try {
      await this.model.insertMany(docs, { ordered: false });
    } catch (err) {
      if (!isOnlyDuplicateKeyErrors(err)) throw err;
    }
  }
}
