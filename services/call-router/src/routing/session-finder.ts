import { Injectable } from '@nestjs/common';
import { GetRoutingSession, GetSessionsOnNumber, type RoutingSession } from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { RoutingIndex } from './routing-index';

/**
 * Live sessions for a call: from the index; from the store when the index is not loaded (or was
 * invalidated by a missed update), has none on the number, or the caller asks for a fresh read.
 */
@Injectable()
export class SessionFinder {
  constructor(
    private readonly index: RoutingIndex,
    private readonly rpc: RpcClient,
  ) {}

  async onNumber(virtualNumber: string, options: { fresh?: boolean } = {}): Promise<RoutingSession[]> {
    const known = this.index.on(virtualNumber);
    if (this.index.ready && !options.fresh && known.length > 0) return known;
    const { sessions } = await this.rpc.request(GetSessionsOnNumber, { virtualNumber });
    this.index.replaceNumber(virtualNumber, sessions);
    return this.index.on(virtualNumber);
  }

  async byId(sessionId: string): Promise<RoutingSession | undefined> {
    const known = this.index.get(sessionId);
    if (known && Date.parse(known.expiresAt) > Date.now()) return known;
    const { session } = await this.rpc.request(GetRoutingSession, { sessionId });
    if (!session || session.status !== 'active' || Date.parse(session.expiresAt) <= Date.now())
      return undefined;
    this.index.upsert(session);
    return session;
  }
}
