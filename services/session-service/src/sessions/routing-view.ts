import type { RoutingSession } from '@maskline/contracts';
import type { SessionDocument } from './session.schema';

/** What a call router needs of a session: served on request, and carried by session events. */
export function routingView(d: SessionDocument & { virtualNumber: string }): RoutingSession {
  return {
    sessionId: d._id,
    accountId: d.accountId,
    subaccountId: d.subaccountId,
    virtualNumber: d.virtualNumber,
    firstParty: d.firstParty,
    secondParty: d.secondParty,
    status: d.status,
    expiresAt: d.expiresAt.toISOString(),
    createdAt: d.createdAt.toISOString(),
    modifiedAt: d.modifiedAt.toISOString(),
    settings: d.settings,
    ...(d.proxy ? { proxyServiceSid: d.proxy.serviceSid } : {}),
  };
}
