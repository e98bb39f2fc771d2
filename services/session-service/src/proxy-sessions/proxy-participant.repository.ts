import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AccountScopedRepository } from '@maskline/persistence';
import { ProxyParticipantDocument } from './proxy-participant.schema';

@Injectable()
export class ProxyParticipantRepository extends AccountScopedRepository<ProxyParticipantDocument> {
  constructor(@InjectModel(ProxyParticipantDocument.name) model: Model<ProxyParticipantDocument>) {
    super(model);
  }

  /** Takes the slot for the participant; false when the slot or the identifier is taken in the Session. */
  take(doc: Omit<ProxyParticipantDocument, 'createdAt' | 'updatedAt'>): Promise<boolean> {
    return this.insertUnlessTaken(doc);
  }

  /** A Session's participants, by slot. */
  async ofSession(accountId: string, sessionId: string): Promise<ProxyParticipantDocument[]> {
    const found = await this.findScoped({ accountId, sessionId });
    return found.sort((a, b) => a.slot - b.slot);
  }

  async setProxyIdentifier(accountId: string, sid: string, proxyIdentifier: string): Promise<void> {
    await this.updateOneScoped({ _id: sid, accountId }, { $set: { proxyIdentifier } });
  }

  /** A participant that never made it into its Session (its slot is free again). */
  remove(accountId: string, sid: string): Promise<void> {
    return this.deleteScoped({ _id: sid, accountId });
  }
}
