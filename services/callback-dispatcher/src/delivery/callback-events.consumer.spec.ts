import pino from 'pino';
import {
  CallProgressed,
  CallbackReplayRequested,
  DEFAULT_SESSION_SETTINGS,
  SessionExpired,
  callbackEventIdOf,
  type RoutingSession,
} from '@maskline/contracts';
import type { EventMeta, RpcClient } from '@maskline/messaging';
import { MetricsService } from '@maskline/observability';
import type { DeadLetters } from '../records/dead-letters.repository';
import { CALLBACK_MAX_DELIVERIES, type CallbackDeliverer, type DeliveryJob } from './callback-deliverer';
import { CallbackEventsConsumer } from './callback-events.consumer';
import { CallbackTargets } from './callback-targets';

const ACCOUNT = 'MAAAAAAAAAAAAAAAAAAA';
const SESSION = '0193a2b4-0000-7000-8000-000000000001';
const AT = '2026-01-01T00:00:00.000Z';

const view = (url: string): RoutingSession => ({
  sessionId: SESSION,
  accountId: ACCOUNT,
  subaccountId: null,
  virtualNumber: '+14155550100',
  firstParty: '+14155550101',
  secondParty: '+14155550102',
  status: 'active',
  expiresAt: '2026-01-01T01:00:00.000Z',
  createdAt: AT,
  modifiedAt: AT,
  settings: { ...DEFAULT_SESSION_SETTINGS, callbackUrl: url },
});

function consumer(letter: Record<string, unknown> | null = null) {
  const asked: string[] = [];
  const rpc = {
    request: async (_contract: unknown, payload: { sessionId: string }) => {
      asked.push(payload.sessionId);
      throw new Error('session-service is not asked in this spec');
    },
  } as unknown as RpcClient;
  const targets = new CallbackTargets(
    {} as never,
    rpc,
    pino({ level: 'silent' }),
    new MetricsService('test'),
  );
  const sentTo: Array<string | null | undefined> = [];
  const jobs: DeliveryJob[] = [];
  const nothing: Array<Partial<DeliveryJob>> = [];
  const deliverer = {
    deliver: async (job: DeliveryJob) => {
      jobs.push(job);
      sentTo.push((await targets.get(job.callback.accountId, job.callback.sessionId))?.callbackUrl);
    },
    nothingToDeliver: async (job: Partial<DeliveryJob>) => void nothing.push(job),
  } as unknown as CallbackDeliverer;
  // No dead letter is left to replay, unless one is given.
  const c = new CallbackEventsConsumer(
    deliverer,
    { one: async () => letter } as unknown as DeadLetters,
    targets,
  );
  let seq = 0;
  const meta = (): EventMeta => ({
    subject: CallProgressed.subject,
    streamSequence: ++seq,
    deliveryCount: 1,
    publishedAt: new Date(AT),
    // Stored a few microseconds apart, as a busy stream stores every tenant's events.
    storedAtMicros: Date.parse(AT) * 1000 + 7 * seq,
  });
  const step = (
    routing?: RoutingSession,
    over: Record<string, unknown> = {},
    deliveryCount = 1,
    extraMeta: Partial<EventMeta> = {},
  ) =>
    c.onEvent(
      {
        subject: CallProgressed.subject,
        payload: CallProgressed.payload.parse({
          accountId: ACCOUNT,
          sessionId: SESSION,
          callId: 'call-1',
          step: 'first-party-answered',
          at: AT,
          from: '+14155550101',
          to: '+14155550102',
          ...(routing ? { routing } : {}),
          ...over,
        }),
      } as never,
      { ...meta(), deliveryCount, ...extraMeta },
    );
  return { c, step, asked, sentTo, meta, jobs, nothing };
}

describe('CallbackEventsConsumer', () => {
  it('delivers a call step to the target its routing view names, asking session-service nothing (a replica just started)', async () => {
    const { step, asked, sentTo } = consumer();
    await step(view('http://127.0.0.1:9/from-step'));
    expect(sentTo).toEqual(['http://127.0.0.1:9/from-step']);
    expect(asked).toEqual([]);
  });

  it('a step’s view does not replace the target a session event gave (its expiry)', async () => {
    const { c, step, asked, sentTo, meta } = consumer();
    await c.onEvent(
      {
        subject: SessionExpired.subject,
        payload: SessionExpired.payload.parse({
          accountId: ACCOUNT,
          subaccountId: null,
          sessionId: SESSION,
          virtualNumber: '+14155550100',
          firstParty: '+14155550101',
          secondParty: '+14155550102',
          at: AT,
          reason: 'timeout',
          routing: view('http://127.0.0.1:9/from-session'),
        }),
      } as never,
      { ...meta(), subject: SessionExpired.subject },
    );
    await step(view('http://127.0.0.1:9/from-step'));
    expect(sentTo.at(-1)).toBe('http://127.0.0.1:9/from-session');
    expect(asked).toEqual([]);
  });

  it('gives an event announced again (another message on the stream, the same message id) the event id it had; another event, another', async () => {
    const { step, jobs } = consumer();
    const cb = view('http://127.0.0.1:9/cb');
    await step(cb, {}, 1, { msgId: 'call:S1:call-1:first-party-answered' });
    await step(cb, {}, 1, { msgId: 'call:S1:call-1:first-party-answered' });
    await step(cb, { step: 'parties-hangup' }, 1, { msgId: 'call:S1:call-1:parties-hangup' });
    expect(jobs[1].sequence).not.toBe(jobs[0].sequence);
    expect(jobs[1].eventId).toBe(jobs[0].eventId);
    expect(jobs[1].attemptKey).toBe(jobs[0].eventId);
    expect(jobs[2].eventId).not.toBe(jobs[0].eventId);
    expect(jobs[0].eventId).toMatch(/^evt-[0-9a-f]{32}$/);
    expect(callbackEventIdOf({ streamSequence: 42 })).toBe('evt-42');
  });

  it('numbers a callback by when its event was stored, never by its place on the stream (the gaps would count every tenant’s events)', async () => {
    const { step, jobs } = consumer();
    const cb = view('http://127.0.0.1:9/cb');
    await step(cb, {}, 1, { streamSequence: 1_000, storedAtMicros: 1_767_225_600_000_001 });
    await step(cb, { step: 'parties-hangup' }, 1, {
      streamSequence: 90_000,
      storedAtMicros: 1_767_225_600_000_002,
    });
    expect(jobs.map((j) => j.sequence)).toEqual([1_767_225_600_000_001, 1_767_225_600_000_002]);
    // The stream's own position still keys what the dispatcher watches.
    expect(jobs.map((j) => j.streamSequence)).toEqual([1_000, 90_000]);
  });

  it('hands the deliverer the interaction a call’s end ends, with the delivery it is on (its callback waits until stored)', async () => {
    const { step, jobs } = consumer();
    await step(view('http://127.0.0.1:9/cb'));
    await step(view('http://127.0.0.1:9/cb'), { step: 'parties-hangup' }, 3);
    expect(jobs.map((j) => j.endOf)).toStrictEqual([
      undefined,
      { sessionId: SESSION, interactionId: 'call-1', deliveryCount: 3 },
    ]);
    // Only a first delivery is known to have had no attempt (its count is not read).
    expect(jobs.map((j) => j.firstDelivery)).toStrictEqual([true, false]);
    // The consumer's last delivery of an event is told so (put off then, it is dead-lettered).
    await step(view('http://127.0.0.1:9/cb'), {}, CALLBACK_MAX_DELIVERIES);
    expect(jobs.map((j) => j.lastDelivery)).toStrictEqual([false, false, true]);
  });

  it('hands on a recording’s URL sealed as its event carried it (never in clear), and a replay the one its letter kept', async () => {
    const sealed = { k: 'rec1', iv: 'aXY=', ct: 'Y3Q=', tag: 'dGFn' };
    const { step, jobs } = consumer();
    await step(view('http://127.0.0.1:9/cb'), {
      step: 'recording-completed',
      recordingId: 'RE1',
      sealedRecordingUrl: sealed,
    });
    expect(jobs[0].callback).toMatchObject({
      target: 'recording',
      sealedRecordingUrl: { callId: 'call-1', sealed },
      params: expect.objectContaining({ RecordingURL: '', RecordingResourceURL: '' }),
    });

    const kept = { callId: 'call-1', sealed };
    const replaying = consumer({
      _id: 'evt-9',
      sessionId: SESSION,
      target: 'recording',
      eventName: 'SessionRecordingCompleted',
      params: { EventName: 'SessionRecordingCompleted', RecordingURL: '' },
      sealedRecordingUrl: kept,
      sequence: 9,
      subaccountId: null,
    });
    // The session's target, learned from a step of it (this spec asks session-service nothing).
    await replaying.step(view('http://127.0.0.1:9/cb'));
    const publishedAt = new Date(AT);
    await replaying.c.onEvent(
      {
        subject: CallbackReplayRequested.subject,
        payload: { accountId: ACCOUNT, eventId: 'evt-9', replayId: 'r1', at: AT },
      },
      {
        subject: CallbackReplayRequested.subject,
        streamSequence: 70_002,
        deliveryCount: 1,
        publishedAt,
        storedAtMicros: publishedAt.getTime() * 1000,
      },
    );
    expect(replaying.jobs[1].callback.sealedRecordingUrl).toEqual(kept);
  });

  it('replays nothing when the dead letter is gone, and has the deliverer remove the replay’s watch, if any', async () => {
    const { c, jobs, nothing } = consumer();
    const publishedAt = new Date(AT);
    await c.onEvent(
      {
        subject: CallbackReplayRequested.subject,
        payload: { accountId: ACCOUNT, eventId: 'evt-9', replayId: 'r1', at: AT },
      },
      {
        subject: CallbackReplayRequested.subject,
        streamSequence: 70_001,
        deliveryCount: 4,
        publishedAt,
        storedAtMicros: publishedAt.getTime() * 1000,
      },
    );
    expect(jobs).toEqual([]);
    expect(nothing).toEqual([
      { eventId: 'evt-9', attemptKey: 'evt-9.r.r1', publishedAt, streamSequence: 70_001 },
    ]);
  });
});
