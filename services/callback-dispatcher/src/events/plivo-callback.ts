import {
  CallProgressed,
  FirstPartyCallFailed,
  MessageFailed,
  MessageRelayed,
  PinAuthenticationStatus,
  SessionExpired,
  type EventPayloadOf,
  type InteractionEvent,
} from '@maskline/contracts';
import type { EncryptedSecret } from '@maskline/crypto';
import { plivoTime, toPlivoNumber } from '@maskline/plivo-wire';

/** A callback to deliver: to the session's callback_url (or recording_callback_url), with Plivo's attributes. */
export interface PlivoCallback {
  accountId: string;
  sessionId: string;
  target: 'session' | 'recording';
  eventName: string;
  /** Plivo's attribute names; SequenceNumber is added at delivery. */
  params: Record<string, string>;
  /**
   * A recording callback's URL, sealed as its event carried it (bound to the account, session and
   * call): opened into `RecordingURL` and `RecordingResourceURL` only for each attempt
   * (`RecordingUrlOpener`), so that what is kept of a callback (its retry's watch, its dead letter)
   * never holds it in clear.
   */
  sealedRecordingUrl?: SealedRecordingUrl;
}

/** A recording's URL sealed for one call of the callback's session. */
export interface SealedRecordingUrl {
  callId: string;
  sealed: EncryptedSecret;
}

const CALL_STEPS: Record<string, string> = {
  'first-party-answered': 'SessionFirstPartyAnswer',
  'second-party-ringing': 'SessionSecondPartyRing',
  'second-party-answered': 'SessionSecondPartyAnswer',
  'first-party-hangup': 'SessionFirstPartyHangup',
  'second-party-hangup': 'SessionSecondPartyHangup',
  'parties-hangup': 'SessionPartiesHangup',
};

const RECORDING_STEPS: Record<string, string> = {
  'recording-initiated': 'SessionRecordingInitiated',
  'recording-completed': 'SessionRecordingCompleted',
  'recording-failed': 'SessionRecordingFailed',
};

/** A session's events, and those of its calls and messages (`InteractionEvent`). */
type Event =
  | { subject: typeof SessionExpired.subject; payload: EventPayloadOf<typeof SessionExpired> }
  | {
      subject: typeof PinAuthenticationStatus.subject;
      payload: EventPayloadOf<typeof PinAuthenticationStatus>;
    }
  | InteractionEvent;

/**
 * Which of Plivo's session callbacks an internal event is, if any. Events that name no session
 * (a wrong PIN on a number shared by several sessions) have nobody to tell: undefined; nor has the
 * end of a session whose creation failed (its owner never had its id).
 */
export function toPlivoCallback(event: Event): PlivoCallback | undefined {
  if (event.subject === SessionExpired.subject) {
    const p = event.payload as EventPayloadOf<typeof SessionExpired>;
    if (p.failedCreation) return undefined;
    return {
      accountId: p.accountId,
      sessionId: p.sessionId,
      target: 'session',
      eventName: 'SessionTimeout',
      params: {
        EventName: 'SessionTimeout',
        EventTimestamp: plivoTime(p.at),
        SessionUUID: p.sessionId,
        From: toPlivoNumber(p.firstParty),
        To: toPlivoNumber(p.secondParty),
        VirtualNumber: toPlivoNumber(p.virtualNumber),
      },
    };
  }
  if (event.subject === PinAuthenticationStatus.subject) {
    const p = event.payload as EventPayloadOf<typeof PinAuthenticationStatus>;
    if (!p.sessionId) return undefined;
    return {
      accountId: p.accountId,
      sessionId: p.sessionId,
      target: 'session',
      eventName: 'SessionPinAuthenticationStatus',
      params: {
        EventName: 'SessionPinAuthenticationStatus',
        EventTimestamp: plivoTime(p.at),
        SessionUUID: p.sessionId,
        From: toPlivoNumber(p.callerNumber),
        To: toPlivoNumber(p.virtualNumber),
        VirtualNumber: toPlivoNumber(p.virtualNumber),
        PinAuthenticationStatus: p.status,
        PinRetryCounter: String(p.retryCounter),
      },
    };
  }
  if (event.subject === FirstPartyCallFailed.subject) {
    // Maskline's, in Plivo's naming style: the call Maskline was to place from the virtual number.
    const p = event.payload as EventPayloadOf<typeof FirstPartyCallFailed>;
    return {
      accountId: p.accountId,
      sessionId: p.sessionId,
      target: 'session',
      eventName: 'SessionFirstPartyCallFailed',
      params: {
        EventName: 'SessionFirstPartyCallFailed',
        EventTimestamp: plivoTime(p.at),
        SessionUUID: p.sessionId,
        From: toPlivoNumber(p.virtualNumber),
        To: toPlivoNumber(p.firstParty),
        VirtualNumber: toPlivoNumber(p.virtualNumber),
        FailureReason: p.reason,
      },
    };
  }
  if (event.subject === MessageRelayed.subject || event.subject === MessageFailed.subject) {
    return toMessageCallback(event.payload as EventPayloadOf<typeof MessageRelayed | typeof MessageFailed>);
  }
  if (event.subject === CallProgressed.subject) {
    const p = event.payload as EventPayloadOf<typeof CallProgressed>;
    if (RECORDING_STEPS[p.step]) return toRecordingCallback(p);
    const name = CALL_STEPS[p.step];
    if (!name) return undefined;
    const params = callParams(name, p);
    if (p.step.endsWith('hangup')) {
      params.Duration = String(p.durationSeconds);
      params.BilledDuration = String(p.billedDurationSeconds);
      params.Amount = '0';
      if (p.hangupCause) params.PlivoHangupCause = p.hangupCause;
    }
    return { accountId: p.accountId, sessionId: p.sessionId, target: 'session', eventName: name, params };
  }
  return undefined;
}

/** Plivo's recording callbacks (to recording_callback_url). */
function toRecordingCallback(p: EventPayloadOf<typeof CallProgressed>): PlivoCallback {
  const name = RECORDING_STEPS[p.step];
  const end = p.step === 'recording-completed' ? p.at : null;
  const start = end ? new Date(Date.parse(end) - p.recordingDurationSeconds * 1000).toISOString() : p.at;
  const params: Record<string, string> = {
    ...callParams(name, p),
    RecordingUUID: p.recordingId ?? '',
    // In clear only from routers before the seal; sealed, it is opened at each attempt.
    RecordingURL: p.recordingUrl ?? '',
    RecordingResourceURL: p.recordingUrl ?? '',
    RecordingDuration: String(p.recordingDurationSeconds),
    RecordingStartTime: plivoTime(start),
    RecordingEndTime: end ? plivoTime(end) : '',
    RecordingFormat: p.recordingFormat ? `.${p.recordingFormat}` : '',
  };
  return {
    accountId: p.accountId,
    sessionId: p.sessionId,
    target: 'recording',
    eventName: name,
    params,
    ...(p.sealedRecordingUrl
      ? { sealedRecordingUrl: { callId: p.callId, sealed: p.sealedRecordingUrl } }
      : {}),
  };
}

/** What every call and recording callback says: which event, when, which session, and the call's numbers. */
function callParams(name: string, p: EventPayloadOf<typeof CallProgressed>): Record<string, string> {
  return {
    EventName: name,
    EventTimestamp: plivoTime(p.at),
    SessionUUID: p.sessionId,
    From: toPlivoNumber(p.from),
    To: toPlivoNumber(p.to),
    VirtualNumber: toPlivoNumber(p.virtualNumber),
  };
}

/**
 * Maskline's message callbacks, in Plivo's naming style: which message (the inbound MessageUUID
 * and the relayed copy's), between which numbers, its size. Never its text.
 */
function toMessageCallback(p: EventPayloadOf<typeof MessageRelayed | typeof MessageFailed>): PlivoCallback {
  const relayed = !('reason' in p);
  const name = relayed ? 'SessionMessageRelayed' : 'SessionMessageFailed';
  const params: Record<string, string> = {
    EventName: name,
    EventTimestamp: plivoTime(p.at),
    SessionUUID: p.sessionId,
    MessageUUID: p.messageId,
    From: toPlivoNumber(p.from),
    To: toPlivoNumber(p.to),
    VirtualNumber: toPlivoNumber(p.virtualNumber),
    MessageDirection:
      p.direction === 'first-to-second' ? 'first_party_to_second_party' : 'second_party_to_first_party',
    MessageLength: String(p.length),
    Segments: String(p.segments),
    MediaCount: String(p.mediaCount),
  };
  if ('relayedMessageId' in p) params.RelayedMessageUUID = p.relayedMessageId ?? '';
  if ('reason' in p) params.FailureReason = p.reason;
  return { accountId: p.accountId, sessionId: p.sessionId, target: 'session', eventName: name, params };
}
