import { displayApiTime, formatDuration, formatUtc, NO_VALUE, parseApiTime } from './api-time';
import type { CallbackAttempt, DeadLetter } from './callbacks.types';
import type { CallInteraction, MessageInteraction, SessionInteraction } from './masking-session.types';
import type { PinAttempt } from './pin-security.types';
import { formatPhoneNumber } from './phone-number-format';

/**
 * One session's story in time order: its calls and messages (from the session detail), the PIN prompts on its
 * calls and the callbacks Maskline sent about it, each callback event with all of its delivery attempts.
 */
export type TimelineKind = 'call' | 'message' | 'pin-attempt' | 'callback';

export const TIMELINE_KIND_LABELS: Readonly<Record<TimelineKind, string>> = {
  call: 'Call',
  message: 'Message',
  'pin-attempt': 'PIN attempt',
  callback: 'Callback',
};

/** How an entry turned out, for colour; the words always say it too. */
export type OutcomeTone = 'good' | 'warn' | 'bad' | 'neutral';

export interface TimelineDetail {
  term: string;
  value: string;
}

export interface TimelineDeliveryAttempt {
  attempt: number;
  time: number | null;
  timeText: string;
  outcome: string;
  tone: OutcomeTone;
  statusCode: string;
  latency: string;
  error: string | null;
}

export interface TimelineEntry {
  /** Unique within one timeline, for list keys. */
  key: string;
  kind: TimelineKind;
  /** "Call", "Message", "PIN attempt" or "Callback". */
  label: string;
  /** What happened, after the label: "failed (attempt 1)". */
  summary: string;
  /** Label and summary together: "PIN attempt — failed (attempt 1)". */
  title: string;
  time: number | null;
  timeText: string;
  tone: OutcomeTone;
  details: TimelineDetail[];
  /** Callback entries only: every delivery attempt, in attempt order. */
  attempts: TimelineDeliveryAttempt[];
}

export interface TimelineSources {
  interactions?: SessionInteraction[] | null;
  pinAttempts?: PinAttempt[] | null;
  callbackAttempts?: CallbackAttempt[] | null;
  deadLetters?: DeadLetter[] | null;
}

export function buildSessionTimeline(sources: TimelineSources): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  (sources.interactions ?? []).forEach((interaction, index) => {
    if (interaction.type === 'call') entries.push(callEntry(interaction, index));
    else if (interaction.type === 'message') entries.push(messageEntry(interaction, index));
  });
  (sources.pinAttempts ?? []).forEach((attempt, index) => entries.push(pinEntry(attempt, index)));
  entries.push(...callbackEntries(sources.callbackAttempts ?? [], sources.deadLetters ?? []));
  // Oldest first; entries whose time is unknown go last. Array.prototype.sort is stable, so ties keep the
  // order above: calls, messages, PIN attempts, callbacks.
  return entries.sort((a, b) => sortableTime(a.time) - sortableTime(b.time));
}

const sortableTime = (time: number | null): number => time ?? Number.POSITIVE_INFINITY;

function entry(
  kind: TimelineKind,
  key: string,
  time: number | null,
  rawTime: string | null,
  summary: string,
  tone: OutcomeTone,
  details: TimelineDetail[],
  attempts: TimelineDeliveryAttempt[] = [],
): TimelineEntry {
  const label = TIMELINE_KIND_LABELS[kind];
  return {
    key,
    kind,
    label,
    summary,
    title: `${label} — ${summary}`,
    time,
    timeText: time === null ? displayApiTime(rawTime) : formatUtc(time),
    tone,
    details,
    attempts,
  };
}

const words = (value: string | null | undefined): string =>
  value === null || value === undefined || value.trim() === ''
    ? 'unknown'
    : value.replace(/[_-]+/g, ' ').trim();

function callEntry(call: CallInteraction, index: number): TimelineEntry {
  const start = parseApiTime(call.start_time);
  const first = words(call.first_party_status);
  const second = words(call.second_party_status);
  const duration = formatDuration(call.duration);
  const details: TimelineDetail[] = [
    { term: 'First party', value: first },
    { term: 'Second party', value: second },
    { term: 'Duration', value: duration },
    { term: 'Ended', value: displayApiTime(call.end_time) },
  ];
  const summary = `first party ${first}, second party ${second}, ${duration === NO_VALUE ? 'duration unknown' : duration}`;
  return entry('call', `call-${index}`, start, call.start_time, summary, callTone(call), details);
}

const ANSWERED = new Set(['completed', 'answered', 'in-progress', 'in progress']);

function callTone(call: CallInteraction): OutcomeTone {
  const statuses = [call.first_party_status, call.second_party_status].map((s) => (s ?? '').toLowerCase());
  if (statuses.every((s) => ANSWERED.has(s))) return 'good';
  if (statuses.some((s) => s === 'failed' || s === 'busy' || s === 'no-answer' || s === 'rejected'))
    return 'warn';
  return 'neutral';
}

function messageEntry(message: MessageInteraction, index: number): TimelineEntry {
  const time = parseApiTime(message.time);
  const status = words(message.status);
  const segments = message.segment_count ?? null;
  const segmentText =
    segments === null ? 'segments unknown' : `${segments} ${segments === 1 ? 'segment' : 'segments'}`;
  const details: TimelineDetail[] = [
    { term: 'Direction', value: words(message.direction) },
    { term: 'From', value: formatPhoneNumber(message.from_party) },
    { term: 'To', value: formatPhoneNumber(message.to_party) },
    { term: 'Status', value: status },
    { term: 'Segments', value: segments === null ? NO_VALUE : String(segments) },
  ];
  if (message.failure_reason) details.push({ term: 'Failure reason', value: message.failure_reason });
  if (message.message_uuid) details.push({ term: 'Message UUID', value: message.message_uuid });
  const lowered = status.toLowerCase();
  const tone: OutcomeTone =
    lowered === 'delivered' || lowered === 'sent'
      ? 'good'
      : lowered === 'failed' || lowered === 'undelivered' || lowered === 'rejected'
        ? 'bad'
        : 'neutral';
  const summary = `${words(message.direction)}, ${status}, ${segmentText}`;
  return entry(
    'message',
    `message-${message.message_uuid ?? index}`,
    time,
    message.time,
    summary,
    tone,
    details,
  );
}

function pinEntry(attempt: PinAttempt, index: number): TimelineEntry {
  const time = parseApiTime(attempt.time);
  const counter =
    typeof attempt.retry_counter === 'number'
      ? attempt.retry_counter
      : typeof attempt.attempt === 'number'
        ? attempt.attempt
        : null;
  const attemptNote = counter === null ? '' : ` (attempt ${counter})`;
  let summary: string;
  let tone: OutcomeTone;
  switch (attempt.outcome) {
    case 'success':
      summary = 'success';
      tone = 'good';
      break;
    case 'failed':
      summary = `failed${attemptNote}`;
      tone = 'warn';
      break;
    case 'locked':
      summary = `locked${attemptNote}`;
      tone = 'bad';
      break;
    case 'authorized_caller':
      summary = 'authorized caller, no PIN asked';
      tone = 'good';
      break;
    default:
      summary = words(attempt.outcome);
      tone = 'neutral';
  }
  const details: TimelineDetail[] = [
    // Already masked by the server; shown exactly as received.
    { term: 'Caller', value: attempt.caller && attempt.caller.trim() !== '' ? attempt.caller : NO_VALUE },
    { term: 'Virtual number', value: formatPhoneNumber(attempt.virtual_number) },
  ];
  if (attempt.outcome === 'locked' && attempt.lock_reason) {
    details.push({ term: 'Locked', value: LOCK_REASONS[attempt.lock_reason] ?? words(attempt.lock_reason) });
  }
  if (attempt.call_uuid) details.push({ term: 'Call UUID', value: attempt.call_uuid });
  return entry('pin-attempt', `pin-${index}`, time, attempt.time, summary, tone, details);
}

const LOCK_REASONS: Readonly<Record<string, string>> = {
  call: 'this call',
  caller: 'this caller',
  number: 'this virtual number',
};

const OUTCOME_TONES: Readonly<Record<string, OutcomeTone>> = {
  delivered: 'good',
  retry: 'warn',
  'circuit-open': 'warn',
  failed: 'bad',
};

export function describeCallbackOutcome(outcome: string): string {
  switch (outcome) {
    case 'delivered':
      return 'delivered';
    case 'retry':
      return 'failed, will retry';
    case 'failed':
      return 'failed';
    case 'circuit-open':
      return 'held back: endpoint circuit open';
    default:
      return words(outcome);
  }
}

function deliveryAttempt(attempt: CallbackAttempt): TimelineDeliveryAttempt {
  const time = parseApiTime(attempt.time);
  return {
    attempt: attempt.attempt,
    time,
    timeText: time === null ? displayApiTime(attempt.time) : formatUtc(time),
    outcome: describeCallbackOutcome(attempt.outcome),
    tone: OUTCOME_TONES[attempt.outcome] ?? 'neutral',
    statusCode:
      attempt.status_code === null || attempt.status_code === undefined
        ? 'no response'
        : `HTTP ${attempt.status_code}`,
    latency:
      attempt.latency_ms === null || attempt.latency_ms === undefined
        ? NO_VALUE
        : `${Math.round(attempt.latency_ms)} ms`,
    error: attempt.error && attempt.error.trim() !== '' ? attempt.error : null,
  };
}

function callbackEntries(attempts: CallbackAttempt[], deadLetters: DeadLetter[]): TimelineEntry[] {
  const byEvent = new Map<string, CallbackAttempt[]>();
  for (const attempt of attempts) {
    const group = byEvent.get(attempt.event_id);
    if (group) group.push(attempt);
    else byEvent.set(attempt.event_id, [attempt]);
  }
  const deadByEvent = new Map(deadLetters.map((letter) => [letter.event_id, letter]));
  const entries: TimelineEntry[] = [];
  for (const [eventId, group] of byEvent) {
    const ordered = [...group].sort((a, b) => a.attempt - b.attempt);
    entries.push(callbackEntry(eventId, ordered, deadByEvent.get(eventId) ?? null));
  }
  // A dead letter whose attempts are no longer listed still belongs in the story.
  for (const letter of deadLetters) {
    if (!byEvent.has(letter.event_id)) entries.push(callbackEntry(letter.event_id, [], letter));
  }
  return entries;
}

function callbackEntry(
  eventId: string,
  ordered: CallbackAttempt[],
  deadLetter: DeadLetter | null,
): TimelineEntry {
  const first = ordered[0];
  const last = ordered[ordered.length - 1];
  const eventName = first?.event_name ?? deadLetter?.event_name ?? 'unknown event';
  const url = first?.url ?? deadLetter?.url ?? NO_VALUE;
  const rawTime = first?.time ?? deadLetter?.time ?? null;
  const times = ordered.map((a) => parseApiTime(a.time)).filter((t): t is number => t !== null);
  const time = times.length > 0 ? Math.min(...times) : parseApiTime(rawTime);
  const count = ordered.length;
  const tries = `${count} ${count === 1 ? 'attempt' : 'attempts'}`;

  let summary: string;
  let tone: OutcomeTone;
  if (deadLetter) {
    summary = `${eventName}, dead-lettered${deadLetter.replayed_time ? ', replayed' : ''}`;
    tone = deadLetter.replayed_time ? 'neutral' : 'bad';
  } else if (last) {
    summary = `${eventName}, ${describeCallbackOutcome(last.outcome)} after ${tries}`;
    tone = OUTCOME_TONES[last.outcome] ?? 'neutral';
  } else {
    summary = eventName;
    tone = 'neutral';
  }

  const details: TimelineDetail[] = [
    { term: 'Event', value: eventName },
    { term: 'URL', value: first ? `${first.method.toUpperCase()} ${url}` : url },
    { term: 'Event ID', value: eventId },
  ];
  if (deadLetter) {
    details.push({
      term: 'Dead letter',
      value: `${deadLetter.reason} (after ${deadLetter.attempts} attempts)`,
    });
    details.push({
      term: 'Replayed',
      value: deadLetter.replayed_time ? displayApiTime(deadLetter.replayed_time) : 'not yet',
    });
  }
  return entry(
    'callback',
    `callback-${eventId}`,
    time,
    rawTime,
    summary,
    tone,
    details,
    ordered.map(deliveryAttempt),
  );
}
