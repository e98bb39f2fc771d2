import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AccountScopedRepository } from '@maskline/persistence';
import { ProxyNumberClaimDocument } from './proxy-number-claim.schema';

@Injectable()
export class ProxyNumberClaimRepository extends AccountScopedRepository<ProxyNumberClaimDocument> {
  constructor(@InjectModel(ProxyNumberClaimDocument.name) model: Model<ProxyNumberClaimDocument>) {
    super(model);
  }

  /** Gives the number to the Service; false when a claim (any Service's) holds it already. */
  take(accountId: string, number: string, serviceSid: string): Promise<boolean> {
    return this.insertUnlessTaken({ _id: number, accountId, serviceSid });
  }

  holder(accountId: string, number: string): Promise<ProxyNumberClaimDocument | null> {
    return this.findByIdScoped({ accountId }, number);
  }

  /** Ends the claim, if it is this Service's (or any Service's, without one). */
  release(accountId: string, number: string, serviceSid?: string): Promise<void> {
    return this.deleteScoped({ _id: number, accountId, ...(serviceSid ? { serviceSid } : {}) });
  }
}
