import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AccountScopedRepository } from '@maskline/persistence';
import { AllocationFateDocument } from './allocation-fate.schema';

@Injectable()
export class AllocationFates extends AccountScopedRepository<AllocationFateDocument> {
  constructor(@InjectModel(AllocationFateDocument.name) model: Model<AllocationFateDocument>) {
    super(model);
  }

  /**
   * Decides the allocation's fate: true when it is `fate`, decided now or this way before (a reaper
   * run whose release failed after it had decided: the next run releases it, where it forgot the
   * step and left the number held), false when it was decided the other way. Reads the decision
   * (by id) only when it was taken before.
   */
  async decide(accountId: string, allocationId: string, fate: 'kept' | 'reaped'): Promise<boolean> {
    if (await this.insertUnlessTaken({ _id: allocationId, accountId, fate, createdAt: new Date() }))
      return true;
    return (await this.findByIdScoped({ accountId }, allocationId))?.fate === fate;
  }

  /** The retention sweep: fates decided long ago (their allocations are held or given back by now). */
  purgeSystemWide(olderThan: Date): Promise<number> {
    return this.systemWideSweeps.deleteDue({}, 'createdAt', olderThan);
  }
}
