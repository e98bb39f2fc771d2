import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AccountScopedRepository } from '@maskline/persistence';
import { ProxySessionNameDocument } from './proxy-session-name.schema';

@Injectable()
export class ProxySessionNameRepository extends AccountScopedRepository<ProxySessionNameDocument> {
  constructor(@InjectModel(ProxySessionNameDocument.name) model: Model<ProxySessionNameDocument>) {
    super(model);
  }

  /** Holds the name for the Session; false when another Session of the Service holds it. */
  hold(accountId: string, serviceSid: string, name: string, sessionId: string): Promise<boolean> {
    return this.insertUnlessTaken({ _id: `${serviceSid}|${name}`, accountId, sessionId });
  }

  /** The Session holding the name, if any. */
  async sessionNamed(accountId: string, serviceSid: string, name: string): Promise<string | null> {
    return (await this.holder(accountId, serviceSid, name))?.sessionId ?? null;
  }

  /** The hold on the name, if any: the Session it is for, and since when. */
  holder(accountId: string, serviceSid: string, name: string): Promise<ProxySessionNameDocument | null> {
    return this.findByIdScoped({ accountId }, `${serviceSid}|${name}`);
  }

  release(accountId: string, serviceSid: string, name: string, sessionId: string): Promise<void> {
    return this.deleteScoped({ _id: `${serviceSid}|${name}`, accountId, sessionId });
  }

  /** The retention sweep: names still held by sessions whose records are deleted. */
  deleteForSessionsSystemWide(sessionIds: readonly string[]): Promise<number> {
    if (sessionIds.length === 0) return Promise.resolve(0);
    return this.systemWideSweeps.deleteMany({ sessionId: { $in: [...sessionIds] } });
  }
}
