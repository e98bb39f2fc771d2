import type { CallbackAttempt, DeadLetter } from './callbacks.types';
import type { CallInteraction, MessageInteraction } from './masking-session.types';
import type { PinAttempt } from './pin-security.types';
import { buildSessionTimeline } from './session-timeline';

const call = (overrides: Partial<CallInteraction> = {}): CallInteraction => ({
  type: 'call',
  start_time: '2026-11-29 16:00:00 +0000 UTC',
  end_time: '2026-11-29 16:01:05 +0000 UTC',
  first_party_status: 'completed',
  second_party_status: 'completed',
  duration: 65,
  ...overrides,
});

const message = (overrides: Partial<MessageInteraction> = {}): MessageInteraction => ({
  type: 'message',
  time: '2026-11-29 16:05:00.250000 +0000 UTC',
  direction: 'first_party_to_second_party',
  from_party: '4915112345678',
  to_party: '14155550100',
  status: 'delivered',
  failure_reason: null,
  segment_count: 2,
  message_uuid: 'msg-1',
  ...overrides,
});

const pin = (overrides: Partial<PinAttempt> = {}): PinAttempt => ({
  time: '2026-11-29T16:00:10Z',
  call_uuid: 'call-1',
  virtual_number: '14155550199',
  caller: '+49 15•••••78',
  outcome: 'failed',
  retry_counter: 1,
  ...overrides,
});

const attempt = (overrides: Partial<CallbackAttempt> = {}): CallbackAttempt => ({
  event_id: 'evt-a',
  event_name: 'session.call.started',
  url: 'http://127.0.0.1:9/masking',
  method: 'post',
  attempt: 1,
  time: '2026-11-29T16:00:05Z',
  outcome: 'delivered',
  status_code: 200,
  latency_ms: 84.6,
  error: null,
  ...overrides,
});

const deadLetter = (overrides: Partial<DeadLetter> = {}): DeadLetter => ({
  event_id: 'evt-a',
  event_name: 'session.call.started',
  session_uuid: 'sess-1',
  url: 'http://127.0.0.1:9/masking',
  reason: 'max attempts reached',
  attempts: 3,
  time: '2026-11-29T16:09:00Z',
  replayed_time: null,
  ...overrides,
});

describe('buildSessionTimeline', () => {
  it('merges calls, messages, PIN attempts and callbacks into one list, oldest first', () => {
    const timeline = buildSessionTimeline({
      interactions: [message(), call()],
      pinAttempts: [pin({ time: '2026-11-29T16:00:20Z', outcome: 'success', retry_counter: 2 }), pin()],
      callbackAttempts: [attempt()],
    });

    expect(timeline.map((e) => [e.label, e.timeText])).toEqual([
      ['Call', '2026-11-29 16:00:00 UTC'],
      ['Callback', '2026-11-29 16:00:05 UTC'],
      ['PIN attempt', '2026-11-29 16:00:10 UTC'],
      ['PIN attempt', '2026-11-29 16:00:20 UTC'],
      ['Message', '2026-11-29 16:05:00 UTC'],
    ]);
    expect(new Set(timeline.map((e) => e.key)).size).toBe(timeline.length);
  });

  it('says how each PIN attempt ended, with the masked caller and never anything else about the caller', () => {
    const timeline = buildSessionTimeline({
      pinAttempts: [
        pin(),
        pin({ time: '2026-11-29T16:00:11Z', outcome: 'locked', retry_counter: 3 }),
        pin({ time: '2026-11-29T16:00:12Z', outcome: 'success', retry_counter: 0 }),
        pin({ time: '2026-11-29T16:00:13Z', outcome: 'authorized_caller', retry_counter: null }),
      ],
    });

    expect(timeline.map((e) => e.title)).toEqual([
      'PIN attempt — failed (attempt 1)',
      'PIN attempt — locked (attempt 3)',
      'PIN attempt — success',
      'PIN attempt — authorized caller, no PIN asked',
    ]);
    expect(timeline.map((e) => e.tone)).toEqual(['warn', 'bad', 'good', 'good']);
    expect(timeline[0].details).toContainEqual({ term: 'Caller', value: '+49 15•••••78' });
  });

  it("reads the gateway's `attempt` when `retry_counter` is absent, and says what a lock covers", () => {
    const [entry] = buildSessionTimeline({
      pinAttempts: [pin({ retry_counter: undefined, attempt: 3, outcome: 'locked', lock_reason: 'caller' })],
    });
    expect(entry.title).toBe('PIN attempt — locked (attempt 3)');
    expect(entry.details).toContainEqual({ term: 'Locked', value: 'this caller' });
  });

  it('describes calls by both parties and the duration', () => {
    const [entry] = buildSessionTimeline({
      interactions: [call({ second_party_status: 'no-answer', duration: '0' })],
    });

    expect(entry.title).toBe('Call — first party completed, second party no answer, 0 s');
    expect(entry.tone).toBe('warn');
    expect(entry.details).toContainEqual({ term: 'Ended', value: '2026-11-29 16:01:05 UTC' });
  });

  it('describes messages by direction, status and segments, with "+" numbers and no text', () => {
    const [entry] = buildSessionTimeline({ interactions: [message()] });

    expect(entry.title).toBe('Message — first party to second party, delivered, 2 segments');
    expect(entry.details).toContainEqual({ term: 'From', value: '+4915112345678' });
    expect(entry.details.map((d) => d.term)).not.toContain('Text');
    expect(
      buildSessionTimeline({ interactions: [message({ status: 'failed', segment_count: 1 })] })[0].summary,
    ).toBe('first party to second party, failed, 1 segment');
  });

  it('groups callback attempts under their event, in attempt order', () => {
    const timeline = buildSessionTimeline({
      callbackAttempts: [
        attempt({ attempt: 3, time: '2026-11-29T16:02:05Z', outcome: 'delivered', status_code: 200 }),
        attempt({ event_id: 'evt-b', event_name: 'session.message', time: '2026-11-29T16:05:01Z' }),
        attempt({ attempt: 1, outcome: 'retry', status_code: 500, latency_ms: 1200, error: 'HTTP 500' }),
        attempt({
          attempt: 2,
          time: '2026-11-29T16:01:05Z',
          outcome: 'retry',
          status_code: null,
          latency_ms: null,
          error: 'connect ETIMEDOUT',
        }),
      ],
    });

    expect(timeline).toHaveLength(2);
    const [first, second] = timeline;
    expect(first.title).toBe('Callback — session.call.started, delivered after 3 attempts');
    expect(first.timeText).toBe('2026-11-29 16:00:05 UTC');
    expect(first.details).toContainEqual({ term: 'URL', value: 'POST http://127.0.0.1:9/masking' });
    expect(first.attempts.map((a) => [a.attempt, a.outcome, a.statusCode, a.latency, a.error])).toEqual([
      [1, 'failed, will retry', 'HTTP 500', '1200 ms', 'HTTP 500'],
      [2, 'failed, will retry', 'no response', '—', 'connect ETIMEDOUT'],
      [3, 'delivered', 'HTTP 200', '85 ms', null],
    ]);
    expect(second.summary).toBe('session.message, delivered after 1 attempt');
  });

  it('marks a dead-lettered event and still shows a dead letter whose attempts are gone', () => {
    const timeline = buildSessionTimeline({
      callbackAttempts: [attempt({ outcome: 'failed', status_code: 503 })],
      deadLetters: [
        deadLetter(),
        deadLetter({ event_id: 'evt-old', event_name: 'session.expired', time: '2026-11-29T15:00:00Z' }),
      ],
    });

    expect(timeline.map((e) => e.title)).toEqual([
      'Callback — session.expired, dead-lettered',
      'Callback — session.call.started, dead-lettered',
    ]);
    expect(timeline[0].attempts).toEqual([]);
    expect(timeline[1].tone).toBe('bad');
    expect(timeline[1].details).toContainEqual({
      term: 'Dead letter',
      value: 'max attempts reached (after 3 attempts)',
    });
  });

  it('puts entries with an unknown time last and keeps their raw time text', () => {
    const timeline = buildSessionTimeline({
      interactions: [call({ start_time: null }), message()],
      pinAttempts: [pin({ time: 'garbled' })],
    });

    expect(timeline.map((e) => [e.label, e.timeText])).toEqual([
      ['Message', '2026-11-29 16:05:00 UTC'],
      ['Call', '—'],
      ['PIN attempt', 'garbled'],
    ]);
  });

  it('is empty when nothing happened', () => {
    expect(buildSessionTimeline({ interactions: null })).toEqual([]);
  });
});
