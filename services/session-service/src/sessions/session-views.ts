import { Injectable } from '@nestjs/common';
import { RevealSessionPins, type SessionView } from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { buildInteractions } from '../interactions/build-interactions';
import { CallEventRepository } from '../interactions/call-event.repository';
import type { SessionDocument } from './session.schema';

/** Renders a stored session with its PINs (asked of pin-auth) and its interactions. */
@Injectable()
export class SessionViews {
  constructor(
    private readonly rpc: RpcClient,
    private readonly callEvents: CallEventRepository,
  ) {}

  async render(doc: SessionDocument, pins?: { first: string; second: string }): Promise<SessionView> {
    const shownPins = pins ?? (await this.pinsOf(doc));
    const summary = buildInteractions(await this.callEvents.forSession(doc.accountId, doc._id));
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
      lastInteractionTime: summary.lastInteractionTime,
    };
  }

  /** PINs are shown while the session lives (an expired session's PINs are released). */
  private async pinsOf(doc: SessionDocument): Promise<{ first: string; second: string } | undefined> {
    if (!doc.settings.isPinAuthenticationRequired || doc.status === 'expired') return undefined;
    return this.rpc.request(RevealSessionPins, { scope: { accountId: doc.accountId }, sessionId: doc._id });
  }
}
