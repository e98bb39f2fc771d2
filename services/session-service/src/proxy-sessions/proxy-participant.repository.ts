import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AccountScopedRepository } from '@maskline/persistence';
import { ProxyParticipantDocument } from './proxy-participant.schema';

/**
 * Participants' places. Written on every add (one insert, checked by its unique indexes); read
 * only when an insert is refused (to tell why), never on a hot path.
 */
@Injectable()
export class ProxyParticipantRepository extends AccountScopedRepository<ProxyParticipantDocument> {
  constructor(@InjectModel(ProxyParticipantDocument.name) model: Model<ProxyParticipantDocument>) {
    super(model);
  }

  /** Takes the place; false when the slot or the identifier is taken in the Session. */
  take(doc: Omit<ProxyParticipantDocument, 'createdAt' | 'updatedAt'>): Promise<boolean> {
    return this.insertUnlessTaken(doc);
  }

  /** A Session's places, by slot (to tell why an insert was refused). */
  async ofSession(accountId: string, sessionId: string): Promise<ProxyParticipantDocument[]> {
    const found = await this.findScoped({ accountId, sessionId });
    return found.sort((a, b) => a.slot - b.slot);
  }

  /** A place whose participant never joined (its add failed, or died): free again. */
  remove(accountId: string, sid: string): Promise<void> {
    return this.deleteScoped({ _id: sid, accountId });
  }

  /** The retention sweep: the places of sessions whose records are deleted. */
  deleteForSessionsSystemWide(sessionIds: readonly string[]): Promise<number> {
    if (sessionIds.length === 0) return Promise.resolve(0);
    return this.systemWideSweeps.deleteMany({ sessionId: { $in: [...sessionIds] } });
  }
}
