import { Injectable } from '@nestjs/common';
import {
  interactionSidOf,
  proxySessionSidOf,
  type Interaction,
  type ProxyInteraction,
  type ProxyParticipant,
  type ProxySession,
} from '@maskline/contracts';
import { buildInteractions, type InteractionSummary } from '../interactions/build-interactions';
import { CallEventRepository } from '../interactions/call-event.repository';
import type { CallEventDocument } from '../interactions/call-event.schema';
import type { ProxySessionDocument } from '../sessions/session.schema';
import type { JoinedParticipant } from './proxy-participants.service';

/** Proxy sessions, participants and interactions, as the contract shows them. */
@Injectable()
export class ProxySessionViews {
  constructor(private readonly callEvents: CallEventRepository) {}

  /** `events`: what the caller already knows (none, for a session just created). */
  async session(doc: ProxySessionDocument, events?: CallEventDocument[]): Promise<ProxySession> {
    return sessionView(
      doc,
      buildInteractions(events ?? (await this.callEvents.forSession(doc.accountId, doc))),
    );
  }

  /** A page of one account's sessions: their interactions in one query. */
  async sessions(accountId: string, docs: ProxySessionDocument[]): Promise<ProxySession[]> {
    const events = await this.callEvents.forSessions(accountId, docs);
    return docs.map((d) => sessionView(d, buildInteractions(events.get(d._id) ?? [])));
  }

  /** A session's interactions, newest first, each with the participants it went between. */
  async interactions(
    doc: ProxySessionDocument,
    participants: JoinedParticipant[],
  ): Promise<ProxyInteraction[]> {
    const summary = buildInteractions(await this.callEvents.forSession(doc.accountId, doc));
    const bySlot = (slot: 1 | 2) => participants.find((p) => p.slot === slot)?.sid ?? null;
    return summary.interactions
      .map((interaction) => {
        const [from, to] = endsOf(interaction);
        return {
          sid: interactionSidOf(doc._id, interaction.callId),
          sessionSid: proxySessionSidOf(doc._id),
          serviceSid: doc.proxy.serviceSid,
          accountId: doc.accountId,
          inboundParticipantSid: from ? bySlot(from) : null,
          outboundParticipantSid: to ? bySlot(to) : null,
          interaction,
        };
      })
      .reverse();
  }
}

export function participantView(p: JoinedParticipant, session: ProxySessionDocument): ProxyParticipant {
  const at = new Date(p.createdAt).toISOString();
  return {
    sid: p.sid,
    sessionSid: proxySessionSidOf(session._id),
    serviceSid: session.proxy.serviceSid,
    accountId: session.accountId,
    friendlyName: p.friendlyName,
    identifier: p.identifier,
    proxyIdentifier: p.proxyIdentifier,
    createdAt: at,
    updatedAt: at,
  };
}

/** Which slot an interaction came from and went to (null: sent through the API; a call whose caller was not recorded). */
function endsOf(i: Interaction): [1 | 2 | null, 1 | 2 | null] {
  if (!i.message) {
    if (!i.callerRole) return [null, null];
    return i.callerRole === 'first' ? [1, 2] : [2, 1];
  }
  const [from, to]: [1 | 2, 1 | 2] = i.message.direction === 'first-to-second' ? [1, 2] : [2, 1];
  // Sent through the API: no participant sent it.
  return [i.message.viaApi ? null : from, to];
}

function sessionView(doc: ProxySessionDocument, summary: InteractionSummary): ProxySession {
  const closed = doc.status === 'expired';
  const last = latest(doc.proxy.lastInteractionAt?.toISOString() ?? null, summary.lastInteractionTime);
  const noLimit = !doc.proxy.dateExpiry && doc.proxy.ttl === 0;
  return {
    sid: proxySessionSidOf(doc._id),
    serviceSid: doc.proxy.serviceSid,
    accountId: doc.accountId,
    subaccountId: doc.subaccountId,
    uniqueName: doc.proxy.uniqueName,
    status: closed ? 'closed' : summary.interactions.length > 0 ? 'in-progress' : 'open',
    closedReason: closed ? (doc.proxy.closedReason ?? 'ttl') : null,
    ttl: doc.proxy.ttl,
    mode: doc.proxy.mode,
    dateStarted: doc.createdAt.toISOString(),
    dateEnded: doc.expiredAt ? doc.expiredAt.toISOString() : null,
    dateLastInteraction: last,
    dateExpiry: noLimit ? null : doc.expiresAt.toISOString(),
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.modifiedAt.toISOString(),
  };
}

function latest(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}
