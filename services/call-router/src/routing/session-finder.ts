import { Inject, Injectable } from '@nestjs/common';
import { GetRoutingSession, GetSessionsOnNumber, type RoutingSession } from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { RoutingIndex } from './routing-index';

/**
 * Live sessions for a call, always confined to the virtual number the webhook was verified for
 * and that number's owner: from the index; from the store when the index is not loaded (or was
 * invalidated by a missed update), has none on the number, or the caller asks for a fresh read.
 */
@Injectable()
export class SessionFinder {
  constructor(
    private readonly index: RoutingIndex,
    private readonly rpc: RpcClient,
    @Inject(CLOCK) private readonly now: Clock,
  ) {}

  async onNumber(
    virtualNumber: string,
    accountId: string,
    options: { fresh?: boolean } = {},
  ): Promise<RoutingSession[]> {
    let sessions = this.index.on(virtualNumber, this.now());
    if (!this.index.ready || options.fresh || sessions.length === 0) {
      const reply = await this.rpc.request(GetSessionsOnNumber, { virtualNumber });
      this.index.replaceNumber(virtualNumber, reply.sessions);
      sessions = this.index.on(virtualNumber, this.now());
    }
    return sessions.filter((s) => s.accountId === accountId);
  }

  /**
   * The live session on the number, of this account, in which the caller is a party, when the
   * loaded index knows one: what onNumber(...).find(party) gives, without reading every session on
   * the number. Undefined says only that the index does not know one: the store may (ask onNumber).
   */
  knownSessionOfParty(virtualNumber: string, accountId: string, party: string): RoutingSession | undefined {
    if (!this.index.ready) return undefined;
    return this.index.partyOn(virtualNumber, party, this.now()).find((s) => s.accountId === accountId);
  }

  /** A live session, if it is on this number and of this account; undefined otherwise. */
  async byId(
    sessionId: string,
    virtualNumber: string,
    accountId: string,
  ): Promise<RoutingSession | undefined> {
    const session = await this.live(sessionId);
    return session && session.virtualNumber === virtualNumber && session.accountId === accountId
      ? session
      : undefined;
  }

  private async live(sessionId: string): Promise<RoutingSession | undefined> {
    const known = this.index.get(sessionId);
    if (known && Date.parse(known.expiresAt) > this.now()) return known;
    const { session } = await this.rpc.request(GetRoutingSession, { sessionId });
    if (!session || session.status !== 'active' || Date.parse(session.expiresAt) <= this.now())
      return undefined;
    this.index.upsert(session);
    return session;
  }
}
