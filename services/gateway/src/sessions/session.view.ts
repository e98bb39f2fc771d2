import type { Interaction, SessionView } from '@maskline/contracts';
import { plivoTime } from './plivo-time';

const digits = (e164: string | null) => (e164 ? e164.replace(/^\+/, '') : '');

/** Plivo's interaction object. */
function plivoInteraction(i: Interaction, authId: string) {
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
    recording_resource_url: i.recordingUrl,
    auth_id: authId,
    total_call_count: i.legs,
    duration: i.durationSeconds,
  };
}

/**
 * Plivo's session object: numbers without `+`, times as `YYYY-MM-DD HH:MM:SS +0000 UTC`, unset
 * URLs as "", the PIN block null when PIN authentication is off. Amounts are 0: Maskline does not bill.
 */
export function plivoSession(s: SessionView) {
  const authId = s.subaccountId ?? s.accountId;
  const pin = s.settings.isPinAuthenticationRequired;
  const view: Record<string, unknown> = {
    first_party: digits(s.firstParty),
    second_party: digits(s.secondParty),
    virtual_number: digits(s.virtualNumber),
    status: s.status,
    initiate_call_to_first_party: s.settings.initiateCallToFirstParty,
    session_uuid: s.sessionId,
    callback_url: s.settings.callbackUrl ?? '',
    callback_method: s.settings.callbackMethod,
    created_time: plivoTime(s.createdAt),
    modified_time: plivoTime(s.modifiedAt),
    expiry_time: plivoTime(s.expiresAt),
    duration: s.durationSeconds,
    amount: 0,
    call_time_limit: s.settings.callTimeLimitSeconds,
    ring_timeout: s.settings.ringTimeoutSeconds,
    first_party_play_url: s.settings.firstPartyPlayUrl ?? '',
    second_party_play_url: s.settings.secondPartyPlayUrl ?? '',
    record: s.settings.record,
    record_file_format: s.settings.recordFileFormat,
    recording_callback_url: s.settings.recordingCallbackUrl ?? '',
    recording_callback_method: s.settings.recordingCallbackMethod,
    interaction: s.interactions.length === 0 ? null : s.interactions.map((i) => plivoInteraction(i, authId)),
    total_call_amount: 0,
    total_call_count: s.totalCallCount,
    total_call_billed_duration: s.totalCallBilledDurationSeconds,
    total_session_amount: 0,
    last_interaction_time: plivoTime(s.lastInteractionTime),
    unknown_caller_play: s.settings.unknownCallerPlay,
    is_pin_authentication_required: pin,
    generate_pin: pin ? s.settings.generatePin : null,
    generate_pin_length: pin ? s.settings.generatePinLength : null,
    first_party_pin: pin ? s.firstPartyPin : null,
    second_party_pin: pin ? s.secondPartyPin : null,
    pin_prompt_play: pin ? s.settings.pinPromptPlay : null,
    pin_retry: pin ? s.settings.pinRetry : null,
    pin_retry_wait: pin ? s.settings.pinRetryWaitSeconds : null,
    incorrect_pin_play: pin ? s.settings.incorrectPinPlay : null,
    force_pin_authentication: s.settings.forcePinAuthentication,
    virtual_number_cooloff_period: s.settings.virtualNumberCooloffSeconds,
    create_session_with_single_party: s.settings.createSessionWithSingleParty,
    geomatch: s.settings.geomatch,
  };
  if (s.subaccountId) view.subaccount = s.subaccountId;
  return view;
}

/** A list object: the same keys plus `resource_uri`, sorted alphabetically as Plivo's are. */
export function plivoSessionListObject(s: SessionView, authId: string) {
  const view: Record<string, unknown> = {
    ...plivoSession(s),
    resource_uri: `/v1/Account/${authId}/Masking/Session/${s.sessionId}/`,
  };
  return Object.fromEntries(
    Object.keys(view)
      .sort()
      .map((k) => [k, view[k]]),
  );
}
