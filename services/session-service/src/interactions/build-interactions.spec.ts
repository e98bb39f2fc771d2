import type { CallEventDocument } from './call-event.schema';
import { buildInteractions } from './build-interactions';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, s));
const event = (
  callId: string,
  step: string,
  s: number,
  extra: Partial<CallEventDocument> = {},
): CallEventDocument => ({
  _id: `${callId}:${step}`,
  accountId: 'MA',
  sessionId: 'S',
  callId,
  step,
  at: at(s),
  firstPartyCallUuid: null,
  secondPartyCallUuid: null,
  status: null,
  durationSeconds: 0,
  billedDurationSeconds: 0,
  recordingUrl: null,
  ...extra,
});

describe('buildInteractions', () => {
  it('folds events of each call into one interaction with Plivo’s totals', () => {
    const summary = buildInteractions([
      event('c2', 'parties-hangup', 90, { durationSeconds: 48, billedDurationSeconds: 60 }),
      event('c1', 'first-party-answered', 0, { firstPartyCallUuid: 'A1', status: 'answered' }),
      event('c1', 'second-party-answered', 5, { secondPartyCallUuid: 'B1', status: 'answered' }),
      event('c1', 'parties-hangup', 35, { durationSeconds: 30, billedDurationSeconds: 60 }),
      event('c2', 'first-party-answered', 40, { firstPartyCallUuid: 'A2', status: 'answered' }),
    ]);
    expect(summary.interactions).toHaveLength(2);
    expect(summary.interactions[0]).toMatchObject({
      callId: 'c1',
      legs: 2,
      durationSeconds: 30,
      secondPartyStatus: 'answered',
    });
    expect(summary.interactions[1]).toMatchObject({ callId: 'c2', legs: 1, secondPartyCallUuid: null });
    expect(summary.totalCallCount).toBe(3);
    expect(summary.totalCallBilledDurationSeconds).toBe(120);
    expect(summary.lastInteractionTime).toBe(at(90).toISOString());
    expect(summary.inProgress).toBe(false);
  });

  it('carries a call’s recording URL as its step stored it: sealed (this service cannot open it), or in clear from before', () => {
    const sealed = { k: 'k1', iv: 'iv', ct: 'ct', tag: 'tag' };
    const summary = buildInteractions([
      event('c1', 'first-party-answered', 0, { firstPartyCallUuid: 'A1' }),
      event('c1', 'recording-completed', 30, { sealedRecordingUrl: sealed }),
      event('c1', 'parties-hangup', 31),
      event('c2', 'recording-completed', 40, { recordingUrl: 'https://rec.test/old' }),
    ]);
    expect(summary.interactions.map((i) => [i.recordingUrl, i.sealedRecordingUrl])).toEqual([
      [null, sealed],
      ['https://rec.test/old', null],
    ]);
  });

  it('shows a call that has not hung up as in progress', () => {
    const summary = buildInteractions([event('c1', 'first-party-answered', 0, { firstPartyCallUuid: 'A1' })]);
    expect(summary.inProgress).toBe(true);
    expect(summary.interactions[0].endTime).toBeNull();
  });

  it('is empty without calls', () => {
    expect(buildInteractions([])).toEqual({
      interactions: [],
      totalCallCount: 0,
      totalCallBilledDurationSeconds: 0,
      totalMessageCount: 0,
      lastInteractionTime: null,
      inProgress: false,
    });
  });

  it('makes each message outcome an interaction of its own, counted apart from the calls', () => {
    const summary = buildInteractions([
      event('c1', 'first-party-answered', 0, { firstPartyCallUuid: 'A1', status: 'answered' }),
      event('c1', 'parties-hangup', 30, { durationSeconds: 30, billedDurationSeconds: 60 }),
      event('M1', 'message-relayed', 40, {
        status: 'relayed',
        direction: 'second-to-first',
        segments: 2,
        relayedMessageId: 'R1',
      }),
      event('M2', 'message-failed', 50, {
        status: 'failed',
        direction: 'first-to-second',
        failureReason: 'too-long',
      }),
    ]);
    expect(summary.interactions.map((i) => [i.type, i.callId])).toEqual([
      ['call', 'c1'],
      ['message', 'M1'],
      ['message', 'M2'],
    ]);
    expect(summary.interactions[1].message).toEqual({
      direction: 'second-to-first',
      status: 'relayed',
      failureReason: null,
      segments: 2,
      relayedMessageId: 'R1',
      viaApi: false,
    });
    expect(summary.interactions[2].message).toMatchObject({ status: 'failed', failureReason: 'too-long' });
    expect(summary).toMatchObject({
      totalCallCount: 1,
      totalMessageCount: 2,
      totalCallBilledDurationSeconds: 60,
      inProgress: false,
      lastInteractionTime: at(50).toISOString(),
    });
  });
});
