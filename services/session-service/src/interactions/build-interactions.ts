import type { Interaction } from '@maskline/contracts';
import type { CallEventDocument } from './call-event.schema';

export interface InteractionSummary {
  interactions: Interaction[];
  totalCallCount: number;
  totalCallBilledDurationSeconds: number;
  lastInteractionTime: string | null;
  /** A call is up right now. */
  inProgress: boolean;
}

const ENDS = new Set(['parties-hangup']);

/** Folds a session's call events (any order, duplicates already removed) into Plivo's interactions. */
export function buildInteractions(events: ReadonlyArray<CallEventDocument>): InteractionSummary {
  const byCall = new Map<string, CallEventDocument[]>();
  for (const e of events) byCall.set(e.callId, [...(byCall.get(e.callId) ?? []), e]);
  const interactions: Interaction[] = [];
  for (const [callId, list] of byCall) {
    const sorted = [...list].sort((a, b) => a.at.getTime() - b.at.getTime());
    const end = sorted.find((e) => ENDS.has(e.step));
    const first = sorted.find((e) => e.firstPartyCallUuid)?.firstPartyCallUuid ?? null;
    const second = sorted.find((e) => e.secondPartyCallUuid)?.secondPartyCallUuid ?? null;
    const lastStatus = (prefix: string) =>
      [...sorted].reverse().find((e) => e.step.startsWith(prefix) && e.status)?.status ?? null;
    interactions.push({
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
      legs: (first ? 1 : 0) + (second ? 1 : 0),
    });
  }
  interactions.sort((a, b) => a.startTime.localeCompare(b.startTime));
  const last = events.reduce<Date | null>((m, e) => (m === null || e.at > m ? e.at : m), null);
  return {
    interactions,
    totalCallCount: interactions.reduce((n, i) => n + i.legs, 0),
    totalCallBilledDurationSeconds: interactions.reduce((n, i) => n + i.billedDurationSeconds, 0),
    lastInteractionTime: last ? last.toISOString() : null,
    inProgress: interactions.some((i) => i.endTime === null),
  };
}
