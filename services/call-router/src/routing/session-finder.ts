import { Inject, Injectable } from '@nestjs/common';
import {
  GetRoutingSession,
  GetSessionsOnNumber,
  type RoutingSession,
  type RpcReplyOf,
} from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { RoutingIndex } from './routing-index';
import { RoutingIndexFeeder } from './routing-index.feeder';

/**
 * How long a call waits for the index to apply the session events written before it, before it
 * reads the store instead. Applying is in memory and the question one message get, so only a
 * stalled tail or stream takes this long; short, since the store read after it and the rest of
 * the decision must fit in the gateway's VOICE_DECISION_TIMEOUT_MS.
 */
export const INDEX_CATCH_UP_MS = 250;

/**
 * Live sessions for a call, always confined to the virtual number the webhook was verified for
 * and that number's owner: from the index; from the store when the index is not loaded (or was
 * invalidated by a missed update), cannot apply the events written before the call in time, or
 * the caller asks for a fresh read.
 */
@Injectable()
export class SessionFinder {
  constructor(
    private readonly index: RoutingIndex,
    private readonly feeder: RoutingIndexFeeder,
    private readonly rpc: RpcClient,
    @Inject(CLOCK) private readonly now: Clock,
  ) {}

  /**
   * `freshUnless`: what the index holds decides at once only if it passes this test (the caller is
   * a party of one of them, say). Otherwise, and when it holds nothing on the number, a session
   * created or changed moments ago may not have reached this replica's index yet: the index answers
   * once it has applied every session event the stream holds (a session is announced before its
   * creation or change is answered), and the store is read only if it cannot in INDEX_CATCH_UP_MS.
   * Reading every session on a number from the store costs what the number holds (hundreds, on a
   * busy pool's first number), for every stranger's call.
   */
  async onNumber(
    virtualNumber: string,
    accountId: string,
    options: { fresh?: boolean; freshUnless?: (sessions: RoutingSession[]) => boolean } = {},
  ): Promise<RoutingSession[]> {
    const mine = (sessions: RoutingSession[]) => sessions.filter((s) => s.accountId === accountId);
    if (this.index.ready && !options.fresh) {
      const indexed = mine(this.index.on(virtualNumber, this.now()));
      if (indexed.length > 0 && (!options.freshUnless || options.freshUnless(indexed))) return indexed;
      // Still ready after the wait: no event was missed meanwhile.
      if ((await this.feeder.caughtUp(INDEX_CATCH_UP_MS)) && this.index.ready) {
        return mine(this.index.on(virtualNumber, this.now()));
      }
    }
    this.index.replaceNumber(virtualNumber, await this.storedOn(virtualNumber));
    return mine(this.index.on(virtualNumber, this.now()));
  }

  /**
   * Every live session on the number, as the store has them: page after page (each as many as fit
   * a reply NATS carries), since a busy number, or a tenant's sessions with long settings, outgrow one.
   */
  private async storedOn(virtualNumber: string): Promise<RoutingSession[]> {
    const sessions: RoutingSession[] = [];
    let after: string | null = null;
    for (;;) {
      const page: RpcReplyOf<typeof GetSessionsOnNumber> = await this.rpc.request(GetSessionsOnNumber, {
        virtualNumber,
        after,
      });
      sessions.push(...page.sessions);
      // A page that says more and does not move on would be asked again for ever.
      if (!page.more || page.next === null || page.next === after) return sessions;
      after = page.next;
    }
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

  /**
   * Whether the number has a live session on it (any account's), as far as the index knows, loaded
   * or not (what it holds is live sessions, however it came by them). A number some tenant added,
   * not yet one Maskline is known to send from: the loop guards ask more (`OwnNumbers` for calls,
   * `TextedNumbers` for texts), since a tenant can add a person's phone.
   */
  servesNumber(number: string): boolean {
    return this.index.hasLiveOn(number, this.now());
  }

  /**
   * Whether the number may have a live session (any account's): the index's answer once it is
   * loaded (in memory: every phone's call asks); before, it may lack some, so yes.
   */
  mayServe(number: string): boolean {
    return !this.index.ready || this.servesNumber(number);
  }

  /**
   * Whether a live session on the number (any account's) has this phone as a party: a phone a leg
   * Maskline placed from the number could have been dialled to. From the index once loaded; before,
   * from the store (every session on the number, as onNumber reads one), as the index may lack it.
   */
  async servesParty(number: string, party: string): Promise<boolean> {
    if (!this.index.ready) this.index.replaceNumber(number, await this.storedOn(number));
    return this.index.partyOn(number, party, this.now()).length > 0;
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
    // The index's copy only while it is ready: one it marked untrusted (an update missed) may hold a
    // session ended or moved since, and a call would be bridged into it.
    const known = this.index.ready ? this.index.get(sessionId) : undefined;
    if (known && Date.parse(known.expiresAt) > this.now()) return known;
    const { session } = await this.rpc.request(GetRoutingSession, { sessionId });
    if (!session || session.status !== 'active' || Date.parse(session.expiresAt) <= this.now())
      return undefined;
    this.index.upsert(session);
    return session;
  }
}
