import { Injectable } from '@nestjs/common';
import {
  CodedError,
  ErrorCodes,
  RevealPinsOfSessions,
  RevealSessionPins,
  type SessionView,
} from '@maskline/contracts';
import { RpcClient, isNoResponders } from '@maskline/messaging';
import { buildInteractions } from '../interactions/build-interactions';
import { CallEventRepository } from '../interactions/call-event.repository';
import type { CallEventDocument } from '../interactions/call-event.schema';
import type { SessionDocument } from './session.schema';
import type { NumberedSession } from './session-announcer';

/** Renders a stored session with its PINs (asked of pin-auth) and its interactions. */
@Injectable()
export class SessionViews {
  constructor(
    private readonly rpc: RpcClient,
    private readonly callEvents: CallEventRepository,
  ) {}

  /**
   * `known` gives what the caller already has: the PINs (just generated) and the call events (none,
   * for a session just created; or read for a whole page at once by renderMany).
   */
  async render(
    doc: NumberedSession,
    known: { pins?: { first: string; second: string } | null; events?: CallEventDocument[] } = {},
  ): Promise<SessionView> {
    // Asked at once: the PINs of pin-auth, the steps of the store.
    const [shownPins, events] = await Promise.all([
      known.pins !== undefined ? known.pins : this.pinsOf(doc),
      known.events ?? this.eventsOf(doc),
    ]);
    const summary = buildInteractions(events);
    const status = doc.status === 'expired' ? 'expired' : summary.inProgress ? 'in-progress' : 'active';
    return {
      sessionId: doc._id,
      accountId: doc.accountId,
      subaccountId: doc.subaccountId,
      firstParty: doc.firstParty,
      secondParty: doc.secondParty,
      virtualNumber: doc.virtualNumber,
      status,
      createdAt: doc.createdAt.toISOString(),
      modifiedAt: doc.modifiedAt.toISOString(),
      expiresAt: doc.expiresAt.toISOString(),
      durationSeconds: Math.round((doc.expiresAt.getTime() - doc.createdAt.getTime()) / 1000),
      settings: doc.settings,
      firstPartyPin: shownPins?.first ?? null,
      secondPartyPin: shownPins?.second ?? null,
      interactions: summary.interactions,
      totalCallCount: summary.totalCallCount,
      totalCallBilledDurationSeconds: summary.totalCallBilledDurationSeconds,
      totalMessageCount: summary.totalMessageCount,
      lastInteractionTime: summary.lastInteractionTime,
    };
  }

  /**
   * A session's call steps and messages' outcomes, in time order: a read of every day of steps since
   * it began (a scan of each on FerretDB), for `render`'s `known.events`.
   */
  eventsOf(doc: SessionDocument): Promise<CallEventDocument[]> {
    return this.callEvents.forSession(doc.accountId, doc);
  }

  /**
   * A page of one account's sessions: the call events of all of them in one query, the PINs of
   * all of them in one call to pin-auth.
   */
  async renderMany(accountId: string, docs: NumberedSession[]): Promise<SessionView[]> {
    const withPins = docs.filter(showsPins).map((d) => d._id);
    const [events, pins] = await Promise.all([
      this.callEvents.forSessions(accountId, docs),
      withPins.length === 0
        ? { pins: {} as Record<string, { first: string; second: string }> }
        : this.revealMany(accountId, withPins),
    ]);
    return Promise.all(
      docs.map((d) => this.render(d, { events: events.get(d._id) ?? [], pins: pins.pins[d._id] ?? null })),
    );
  }

  /** The PINs of several sessions in one call; one call each where pin-auth is of release 0.1.0. */
  private async revealMany(accountId: string, sessionIds: string[]) {
    try {
      return await this.rpc.request(RevealPinsOfSessions, { scope: { accountId }, sessionIds });
    } catch (err) {
      if (!isNoResponders(err)) throw err;
      const pins: Record<string, { first: string; second: string }> = {};
      await Promise.all(
        sessionIds.map(async (sessionId) => {
          try {
            pins[sessionId] = await this.rpc.request(RevealSessionPins, { scope: { accountId }, sessionId });
          } catch (notFound) {
            if (!(notFound instanceof CodedError) || notFound.code !== ErrorCodes.NOT_FOUND) throw notFound;
          }
        }),
      );
      return { pins };
    }
  }

  /** PINs are shown while the session lives (an expired session's PINs are released). */
  private async pinsOf(doc: SessionDocument): Promise<{ first: string; second: string } | undefined> {
    if (!showsPins(doc)) return undefined;
    return this.rpc.request(RevealSessionPins, { scope: { accountId: doc.accountId }, sessionId: doc._id });
  }
}

/** PINs are shown while the session lives (an expired session's PINs are released). */
function showsPins(doc: SessionDocument): boolean {
  return doc.settings.isPinAuthenticationRequired && doc.status !== 'expired';
}
