import {
  CallProgressed,
  MessageFailed,
  MessageRelayed,
  interactionEndedBy,
  interactionSidOf,
  proxySessionSidOf,
  type EventPayloadOf,
  type InteractionEnd,
  type InteractionEvent,
} from '@maskline/contracts';

/** The event name a Twilio Proxy callback is recorded (and replayed) under. */
export const PROXY_INTERACTION_EVENT = 'ProxyInteraction';

/** A Twilio Proxy callback: an interaction of a Proxy session, in Twilio's parameters (the Service's SIDs are added at delivery). */
export interface TwilioCallback {
  eventName: typeof PROXY_INTERACTION_EVENT;
  params: Record<string, string>;
}

/**
 * What a Proxy Service's callback_url hears of an event, if anything: each interaction once, when
 * it is over (a call when both legs hung up; a message when relayed or failed), as Twilio's
 * interaction parameters. Never a phone number or a message's text.
 */
export function toTwilioCallback(event: InteractionEvent): TwilioCallback | undefined {
  // Told of each interaction's end, as it is stored (`interactionEndedBy`), nothing else.
  const end = interactionEndedBy(event);
  if (!end) return undefined;
  if (event.subject === CallProgressed.subject) {
    const p = event.payload as EventPayloadOf<typeof CallProgressed>;
    return interaction(end, {
      interactionType: 'Voice',
      interactionData: JSON.stringify({ duration: String(p.durationSeconds) }),
      inboundResourceSid: p.firstPartyCallUuid ?? p.callId,
      inboundResourceType: 'Call',
      inboundResourceStatus: 'completed',
      outboundResourceSid: p.secondPartyCallUuid ?? '',
      outboundResourceType: 'Call',
      outboundResourceStatus: p.secondPartyCallUuid ? 'completed' : 'no-answer',
    });
  }
  if (event.subject === MessageRelayed.subject || event.subject === MessageFailed.subject) {
    const p = event.payload as EventPayloadOf<typeof MessageRelayed | typeof MessageFailed>;
    const relayed = 'relayedMessageId' in p;
    return interaction(end, {
      interactionType: 'Message',
      interactionData: JSON.stringify({ segments: p.segments }),
      inboundResourceSid: p.viaApi ? '' : p.messageId,
      inboundResourceType: p.viaApi ? '' : 'Message',
      inboundResourceStatus: p.viaApi ? '' : 'received',
      outboundResourceSid: relayed ? (p.relayedMessageId ?? '') : '',
      outboundResourceType: 'Message',
      outboundResourceStatus: relayed ? 'delivered' : 'failed',
    });
  }
  return undefined;
}

function interaction(
  { sessionId, interactionId }: InteractionEnd,
  params: Record<string, string>,
): TwilioCallback {
  return {
    eventName: PROXY_INTERACTION_EVENT,
    params: {
      interactionSid: interactionSidOf(sessionId, interactionId),
      interactionSessionSid: proxySessionSidOf(sessionId),
      ...params,
    },
  };
}
