import { accountSidOf } from '@maskline/contracts';
import type { ProxyInteraction, ProxyParticipant, ProxySession } from '@maskline/contracts';
import { numberSidOf } from './twilio-number-sid';
import { twilioDate } from './proxy-service.view';

const date = (iso: string | null) => (iso ? twilioDate(iso) : null);

/** Twilio's Session resource. */
export function twilioSessionView(s: ProxySession, baseUrl: string) {
  const url = `${baseUrl}/v1/Services/${s.serviceSid}/Sessions/${s.sid}`;
  return {
    sid: s.sid,
    service_sid: s.serviceSid,
    account_sid: accountSidOf(s.subaccountId ?? s.accountId),
    date_started: date(s.dateStarted),
    date_ended: date(s.dateEnded),
    date_last_interaction: date(s.dateLastInteraction),
    date_expiry: date(s.dateExpiry),
    unique_name: s.uniqueName,
    status: s.status,
    closed_reason: s.closedReason,
    ttl: s.ttl,
    mode: s.mode,
    date_created: date(s.createdAt),
    date_updated: date(s.updatedAt),
    url,
    links: { interactions: `${url}/Interactions`, participants: `${url}/Participants` },
  };
}

/** Twilio's Participant resource. */
export function twilioParticipantView(p: ProxyParticipant, accountSid: string, baseUrl: string) {
  const url = `${baseUrl}/v1/Services/${p.serviceSid}/Sessions/${p.sessionSid}/Participants/${p.sid}`;
  return {
    sid: p.sid,
    session_sid: p.sessionSid,
    service_sid: p.serviceSid,
    account_sid: accountSid,
    friendly_name: p.friendlyName,
    identifier: p.identifier,
    proxy_identifier: p.proxyIdentifier,
    proxy_identifier_sid: numberSidOf(p.proxyIdentifier),
    date_deleted: null,
    date_created: date(p.createdAt),
    date_updated: date(p.updatedAt),
    url,
    links: { message_interactions: `${url}/MessageInteractions` },
  };
}

/**
 * Twilio's Interaction resource. `data` never holds a message's text (Maskline does not keep it):
 * a call's duration, a message's segment count.
 */
export function twilioInteractionView(i: ProxyInteraction, accountSid: string, baseUrl: string) {
  const it = i.interaction;
  const message = it.message;
  const status = message
    ? message.status === 'relayed'
      ? 'delivered'
      : 'failed'
    : it.endTime
      ? 'completed'
      : 'in-progress';
  const resourceType = message ? 'Message' : 'Call';
  return {
    sid: i.sid,
    session_sid: i.sessionSid,
    service_sid: i.serviceSid,
    account_sid: accountSid,
    data: JSON.stringify(message ? { segments: message.segments } : { duration: String(it.durationSeconds) }),
    type: message ? 'message' : 'voice',
    inbound_participant_sid: i.inboundParticipantSid,
    inbound_resource_sid: message ? it.callId : it.firstPartyCallUuid,
    inbound_resource_status: status,
    inbound_resource_type: resourceType,
    inbound_resource_url: null,
    outbound_participant_sid: i.outboundParticipantSid,
    outbound_resource_sid: message ? message.relayedMessageId : it.secondPartyCallUuid,
    outbound_resource_status: status,
    outbound_resource_type: resourceType,
    outbound_resource_url: null,
    date_created: date(it.startTime),
    date_updated: date(it.endTime ?? it.startTime),
    url: `${baseUrl}/v1/Services/${i.serviceSid}/Sessions/${i.sessionSid}/Interactions/${i.sid}`,
  };
}
