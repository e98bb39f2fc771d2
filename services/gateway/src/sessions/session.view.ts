import { sessionFieldEntries, type Interaction, type SessionView } from '@maskline/contracts';
import { plivoTime, toPlivoNumber } from '@maskline/plivo-wire';
import type { RecordingUrlOf } from './recording-urls';

/**
 * Maskline's message interaction, in the style of Plivo's: which way it went, between which of the
 * session's numbers, its outcome and segments, and the provider's ids. Never the text.
 */
function messageInteraction(i: Interaction, s: SessionView, authId: string) {
  const m = i.message!;
  const [from, to] =
    m.direction === 'first-to-second' ? [s.firstParty, s.secondParty] : [s.secondParty, s.firstParty];
  return {
    type: 'message',
    time: plivoTime(i.startTime),
    direction:
      m.direction === 'first-to-second' ? 'first_party_to_second_party' : 'second_party_to_first_party',
    from_party: toPlivoNumber(from),
    to_party: toPlivoNumber(to),
    status: m.status,
    failure_reason: m.failureReason,
    segment_count: m.segments,
    message_uuid: i.callId,
    relayed_message_uuid: m.relayedMessageId,
    auth_id: authId,
  };
}

/** Plivo's interaction object. */
function plivoInteraction(i: Interaction, s: SessionView, authId: string, recordingUrlOf: RecordingUrlOf) {
  const callUrl = (uuid: string | null) => (uuid ? `/v1/Account/${authId}/Call/${uuid}/` : null);
  return {
    start_time: plivoTime(i.startTime),
    end_time: plivoTime(i.endTime),
    first_party_resource_url: callUrl(i.firstPartyCallUuid),
    second_party_resource_url: callUrl(i.secondPartyCallUuid),
    first_party_status: i.firstPartyStatus,
    second_party_status: i.secondPartyStatus,
    type: 'call',
    total_call_amount: 0,
    call_billed_duration: i.billedDurationSeconds,
    recording_resource_url: recordingUrlOf(s, i),
    auth_id: authId,
    total_call_count: i.legs,
    duration: i.durationSeconds,
  };
}

/**
 * Plivo's session object: numbers without `+`, times as `YYYY-MM-DD HH:MM:SS +0000 UTC`, unset
 * URLs as "", the PIN block null when PIN authentication is off. Amounts are 0: Maskline does not bill.
 * Recording URLs come sealed: `recordingUrlOf` opens them (`RecordingUrls.of`).
 */
export function plivoSession(s: SessionView, recordingUrlOf: RecordingUrlOf) {
  const authId = s.subaccountId ?? s.accountId;
  const pin = s.settings.isPinAuthenticationRequired;
  const view: Record<string, unknown> = {
    first_party: toPlivoNumber(s.firstParty),
    second_party: toPlivoNumber(s.secondParty),
    virtual_number: toPlivoNumber(s.virtualNumber),
    status: s.status,
    session_uuid: s.sessionId,
    created_time: plivoTime(s.createdAt),
    modified_time: plivoTime(s.modifiedAt),
    expiry_time: plivoTime(s.expiresAt),
    duration: s.durationSeconds,
    amount: 0,
    interaction:
      s.interactions.length === 0
        ? null
        : s.interactions.map((i) =>
            i.type === 'message' && i.message
              ? messageInteraction(i, s, authId)
              : plivoInteraction(i, s, authId, recordingUrlOf),
          ),
    total_call_amount: 0,
    total_call_count: s.totalCallCount,
    total_call_billed_duration: s.totalCallBilledDurationSeconds,
    total_message_count: s.totalMessageCount,
    total_session_amount: 0,
    last_interaction_time: plivoTime(s.lastInteractionTime),
    first_party_pin: pin ? s.firstPartyPin : null,
    second_party_pin: pin ? s.secondPartyPin : null,
  };
  // Every setting, shown as its table entry says.
  for (const [key, field] of sessionFieldEntries) {
    const value = s.settings[key];
    if (field.view === 'hidden') continue;
    view[field.plivo] =
      field.view === 'pin-block'
        ? pin
          ? value
          : null
        : field.view === 'empty-when-unset'
          ? (value ?? '')
          : value;
  }
  if (s.subaccountId) view.subaccount = s.subaccountId;
  return view;
}

/** A list object: the same keys plus `resource_uri`, sorted alphabetically as Plivo's are. */
export function plivoSessionListObject(s: SessionView, authId: string, recordingUrlOf: RecordingUrlOf) {
  const view: Record<string, unknown> = {
    ...plivoSession(s, recordingUrlOf),
    resource_uri: `/v1/Account/${authId}/Masking/Session/${s.sessionId}/`,
  };
  return Object.fromEntries(
    Object.keys(view)
      .sort()
      .map((k) => [k, view[k]]),
  );
}
