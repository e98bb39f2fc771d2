import type { Interaction } from '@maskline/contracts';
import type { CallEventDocument } from './call-event.schema';

export interface InteractionSummary {
  interactions: Interaction[];
  totalCallCount: number;
  totalCallBilledDurationSeconds: number;
  totalMessageCount: number;
  lastInteractionTime: string | null;
  /** A call is up right now. */
  inProgress: boolean;
}

const ENDS = new Set(['parties-hangup']);
const MESSAGE_STEPS = new Set(['message-relayed', 'message-failed']);

/**
 * Folds a session's call events (any order, duplicates already removed) into Plivo's interactions,
 * and each message outcome into an interaction of type `message`.
 */
export function buildInteractions(events: ReadonlyArray<CallEventDocument>): InteractionSummary {
  const byCall = new Map<string, CallEventDocument[]>();
  const interactions: Interaction[] = [];
  let messages = 0;
  for (const e of events) {
    if (MESSAGE_STEPS.has(e.step)) {
      interactions.push(messageInteraction(e));
      messages++;
    } else byCall.set(e.callId, [...(byCall.get(e.callId) ?? []), e]);
  }
  for (const [callId, list] of byCall) {
    const sorted = [...list].sort((a, b) => a.at.getTime() - b.at.getTime());
    const end = sorted.find((e) => ENDS.has(e.step));
    const first = sorted.find((e) => e.firstPartyCallUuid)?.firstPartyCallUuid ?? null;
    const second = sorted.find((e) => e.secondPartyCallUuid)?.secondPartyCallUuid ?? null;
    const lastStatus = (prefix: string) =>
      [...sorted].reverse().find((e) => e.step.startsWith(prefix) && e.status)?.status ?? null;
    interactions.push({
      type: 'call',
      message: null,
      callId,
      startTime: sorted[0].at.toISOString(),
      endTime: end ? end.at.toISOString() : null,
      firstPartyCallUuid: first,
      secondPartyCallUuid: second,
      firstPartyStatus: lastStatus('first-party'),
      secondPartyStatus: lastStatus('second-party'),
      durationSeconds: end?.durationSeconds ?? 0,
      billedDurationSeconds: end?.billedDurationSeconds ?? 0,
      recordingUrl: sorted.find((e) => e.recordingUrl)?.recordingUrl ?? null,
      sealedRecordingUrl: sorted.find((e) => e.sealedRecordingUrl)?.sealedRecordingUrl ?? null,
      legs: (first ? 1 : 0) + (second ? 1 : 0),
      callerRole: sorted.find((e) => e.callerRole)?.callerRole ?? null,
    });
  }
  interactions.sort((a, b) => a.startTime.localeCompare(b.startTime));
  const last = events.reduce<Date | null>((m, e) => (m === null || e.at > m ? e.at : m), null);
  return {
    interactions,
    totalCallCount: interactions.reduce((n, i) => n + i.legs, 0),
    totalCallBilledDurationSeconds: interactions.reduce((n, i) => n + i.billedDurationSeconds, 0),
    totalMessageCount: messages,
    lastInteractionTime: last ? last.toISOString() : null,
    inProgress: interactions.some((i) => i.endTime === null),
  };
}

function messageInteraction(e: CallEventDocument): Interaction {
  const at = e.at.toISOString();
  return {
    type: 'message',
    callId: e.callId,
    startTime: at,
    endTime: at,
    firstPartyCallUuid: null,
    secondPartyCallUuid: null,
    firstPartyStatus: null,
    secondPartyStatus: null,
    durationSeconds: 0,
    billedDurationSeconds: 0,
    recordingUrl: null,
    sealedRecordingUrl: null,
    legs: 0,
    callerRole: null,
    message: {
      direction: e.direction === 'second-to-first' ? 'second-to-first' : 'first-to-second',
      status: e.step === 'message-relayed' ? 'relayed' : 'failed',
      failureReason: e.failureReason ?? null,
      segments: e.segments ?? 0,
      relayedMessageId: e.relayedMessageId ?? null,
      viaApi: e.viaApi === true,
    },
  };
}
