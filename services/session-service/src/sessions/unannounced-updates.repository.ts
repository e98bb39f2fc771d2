import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AccountScopedRepository } from '@maskline/persistence';
import { UnannouncedUpdateDocument } from './unannounced-update.schema';

@Injectable()
export class UnannouncedUpdates extends AccountScopedRepository<UnannouncedUpdateDocument> {
  constructor(@InjectModel(UnannouncedUpdateDocument.name) model: Model<UnannouncedUpdateDocument>) {
    super(model);
  }

  /** The session's last change is not announced yet (noted once: the sweep announces the latest). */
  async note(accountId: string, sessionId: string): Promise<void> {
    await this.insertUnlessTaken({ _id: sessionId, accountId, createdAt: new Date() });
  }

  /** The session's change is announced by the request that noted it (in the session's write turn). */
  forget(accountId: string, sessionId: string): Promise<void> {
    return this.deleteScoped({ accountId, _id: sessionId });
  }

  /** System-wide, for the sweep: sessions with a change to announce, at most `limit`. */
  pendingSystemWide(limit: number): Promise<UnannouncedUpdateDocument[]> {
    return this.systemWide.find({}, { limit });
  }

  /** System-wide, for the sweep: the session's change is announced, or it has ended. */
  forgetSystemWide(sessionId: string): Promise<void> {
    return this.systemWide.deleteById(sessionId);
  }
}
