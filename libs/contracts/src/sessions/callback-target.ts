import type { RoutingSession } from '../calls/routing.contract';
import type { GetCallbackTarget } from './sessions.contract';
import type { RpcReplyOf } from '../contract';

export type CallbackTarget = RpcReplyOf<typeof GetCallbackTarget>;

/**
 * Where a Plivo-API session's callbacks go, from the session as its events carry it: session-service answers
 * GetCallbackTarget with it, and the dispatcher takes it from an event's `routing` tail without asking.
 */
export function callbackTargetOf(
  s: Pick<RoutingSession, 'subaccountId' | 'settings' | 'firstParty' | 'secondParty' | 'virtualNumber'>,
): CallbackTarget {
  return {
    subaccountId: s.subaccountId,
    callbackUrl: s.settings.callbackUrl,
    callbackMethod: s.settings.callbackMethod,
    recordingCallbackUrl: s.settings.recordingCallbackUrl,
    recordingCallbackMethod: s.settings.recordingCallbackMethod,
    firstParty: s.firstParty,
    secondParty: s.secondParty,
    virtualNumber: s.virtualNumber,
    proxyServiceSid: null,
  };
}
