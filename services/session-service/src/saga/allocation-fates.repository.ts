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

  /** Decides the allocation's fate; false when it was decided the other way (or this way) before. */
  decide(accountId: string, allocationId: string, fate: 'kept' | 'reaped'): Promise<boolean> {
    return this.insertUnlessTaken({ _id: allocationId, accountId, fate, createdAt: new Date() });
  }

  /** The retention sweep: fates decided long ago (their allocations are held or given back by now). */
  purgeSystemWide(olderThan: Date): Promise<number> {
    return this.systemWideSweeps.deleteDue({}, 'createdAt', olderThan);
  }
}
