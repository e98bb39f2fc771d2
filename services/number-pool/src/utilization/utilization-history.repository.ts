import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AccountScopedRepository } from '@maskline/persistence';
import { ExhaustionMinuteDocument, UtilizationMinuteDocument } from './utilization-minute.schema';

/** The per-minute samples of pool use. */
@Injectable()
export class UtilizationMinutes extends AccountScopedRepository<UtilizationMinuteDocument> {
  constructor(@InjectModel(UtilizationMinuteDocument.name) model: Model<UtilizationMinuteDocument>) {
    super(model);
  }

  /** Keeps the first sample of each owner and minute. */
  record(docs: UtilizationMinuteDocument[]): Promise<void> {
    return this.insertManyKeepingFirst(docs);
  }

  /** An owner's samples since a time, oldest first. Served by `{ accountId, subaccountId, minute }`. */
  since(accountId: string, subaccountId: string | null, since: Date): Promise<UtilizationMinuteDocument[]> {
    return this.findScoped(
      { accountId, subaccountId, minute: { $gte: since } },
      { limit: 24 * 60 + 60, offset: 0, sort: { minute: 1 } },
    );
  }

  /** Minutes before `before`, as one range (slices of it when the store refuses one that large). Served by `{ minute }`. */
  purgeSystemWide(before: Date): Promise<number> {
    return this.systemWide.deleteDue({}, 'minute', before);
  }
}

/** Per-replica counts of allocations refused for lack of numbers. */
@Injectable()
export class ExhaustionMinutes extends AccountScopedRepository<ExhaustionMinuteDocument> {
  constructor(@InjectModel(ExhaustionMinuteDocument.name) model: Model<ExhaustionMinuteDocument>) {
    super(model);
  }

  record(docs: ExhaustionMinuteDocument[]): Promise<void> {
    return this.insertManyKeepingFirst(docs);
  }

  /** Served by `{ accountId, subaccountId, minute }`. */
  since(accountId: string, subaccountId: string | null, since: Date): Promise<ExhaustionMinuteDocument[]> {
    return this.findScoped(
      { accountId, subaccountId, minute: { $gte: since } },
      { limit: 10_000, offset: 0, sort: { minute: 1 } },
    );
  }

  /** Minutes before `before`, as one range (slices of it when the store refuses one that large). Served by `{ minute }`. */
  purgeSystemWide(before: Date): Promise<number> {
    return this.systemWide.deleteDue({}, 'minute', before);
  }
}
