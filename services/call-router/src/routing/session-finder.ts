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

  /**
   * `freshUnless`: what the index holds decides only if it passes this test (the caller is a party of
   * one of them, say); otherwise the store is read, as a session created or changed moments ago may
   * not have reached this replica's index yet. The store is read once at most: not again when the
   * index had nothing on the number and the store was read already.
   */
  async onNumber(
    virtualNumber: string,
    accountId: string,
    options: { fresh?: boolean; freshUnless?: (sessions: RoutingSession[]) => boolean } = {},
  ): Promise<RoutingSession[]> {
    const mine = (sessions: RoutingSession[]) => sessions.filter((s) => s.accountId === accountId);
    const indexed = this.index.on(virtualNumber, this.now());
    if (this.index.ready && !options.fresh && indexed.length > 0) {
      if (!options.freshUnless || options.freshUnless(mine(indexed))) return mine(indexed);
    }
    const reply = await this.rpc.request(GetSessionsOnNumber, { virtualNumber });
    this.index.replaceNumber(virtualNumber, reply.sessions);
    return mine(this.index.on(virtualNumber, this.now()));
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
