import { RecordingUrlSeal, type RouteCall, type RpcParsedRequestOf } from '@maskline/contracts';
import { parseKeyring } from '@maskline/crypto';
import { testKeyring } from '@maskline/testing';
import type { CallEvents } from './call-events';
import { CallProgressTranslator } from './call-progress-translator';
import type { CallState, ConnectedCall } from './call-state';

const VN = '+14155550100';
const ACCOUNT = 'MA000000000000000001';
const CALL: ConnectedCall = {
  sessionId: '00000000-0000-4000-8000-000000000001',
  accountId: ACCOUNT,
  virtualNumber: VN,
  callerRole: 'first',
  calleeRole: 'second',
  caller: '+16285550001',
  callee: '+16285550002',
  recordFormat: 'wav',
};

const KEYS = parseKeyring(testKeyring());

function translator(known: Record<string, ConnectedCall> = { 'CALL-1': CALL }) {
  const steps: Array<{ step: string; call: Record<string, unknown>; extra: Record<string, unknown> }> = [];
  const events = {
    step: jest.fn(
      async (step: string, call: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
        steps.push({ step, call, extra });
      },
    ),
  } as unknown as CallEvents;
  const state = {
    connected: jest.fn(async (vn: string, callId: string) => (vn === VN ? (known[callId] ?? null) : null)),
  } as unknown as CallState;
  return { t: new CallProgressTranslator(events, state, { RECORDING_URL_KEYS: KEYS }), steps };
}

const report = (
  stage: 'dial-event' | 'dial-ended' | 'hangup' | 'recording',
  extra: Partial<RpcParsedRequestOf<typeof RouteCall>> = {},
): RpcParsedRequestOf<typeof RouteCall> => ({
  provider: 'twilio',
  stage,
  virtualNumber: VN,
  accountId: ACCOUNT,
  callId: 'CALL-1',
  caller: '+16285550001',
  context: { stage },
  ...extra,
});

describe('reports on a call, as call steps', () => {
  it('the dialled leg ringing and answering', async () => {
    const { t, steps } = translator();
    expect(await t.translate(report('dial-event', { legStatus: 'ringing', legCallId: 'LEG-1' }))).toEqual([]);
    await t.translate(report('dial-event', { legStatus: 'in-progress', legCallId: 'LEG-1' }));
    await t.translate(report('dial-event', { legStatus: 'completed', legCallId: 'LEG-1' })); // the dial-ended says it
    expect(steps.map((s) => [s.step, s.extra])).toEqual([
      ['second-party-ringing', { secondPartyCallUuid: 'LEG-1', status: 'ringing' }],
      ['second-party-answered', { secondPartyCallUuid: 'LEG-1', status: 'answered' }],
    ]);
    expect(steps[0].call).toEqual({
      accountId: ACCOUNT,
      sessionId: CALL.sessionId,
      virtualNumber: VN,
      callId: 'CALL-1',
      from: CALL.caller,
      to: CALL.callee,
    });
  });

  it('the dial ending: the dialled leg’s hangup with its status and durations, and the call hangs up', async () => {
    const { t, steps } = translator();
    expect(
      await t.translate(
        report('dial-ended', { legStatus: 'no-answer', legCallId: 'LEG-1', durationSeconds: 0 }),
      ),
    ).toEqual([{ type: 'hangup' }]);
    expect(steps.map((s) => [s.step, s.extra])).toEqual([
      [
        'second-party-hangup',
        { secondPartyCallUuid: 'LEG-1', status: 'no-answer', durationSeconds: 0, billedDurationSeconds: 0 },
      ],
    ]);
  });

  it('the caller hanging up: its own hangup, then the parties’', async () => {
    const { t, steps } = translator();
    await t.translate(
      report('hangup', { durationSeconds: 42, billedDurationSeconds: 60, hangupCause: 'NORMAL_CLEARING' }),
    );
    expect(steps.map((s) => s.step)).toEqual(['first-party-hangup', 'parties-hangup']);
    expect(steps[1].extra).toEqual({
      durationSeconds: 42,
      billedDurationSeconds: 60,
      hangupCause: 'NORMAL_CLEARING',
    });
  });

  it('the recording starting, ready, or failed, with its format, and its URL sealed for this call only', async () => {
    const { t, steps } = translator();
    for (const status of ['initiated', 'completed', 'failed'] as const) {
      await t.translate(
        report('recording', {
          recording: { status, id: 'REC-1', url: 'https://rec.test/1', durationSeconds: 9 },
        }),
      );
    }
    await t.translate(report('recording', { recording: { status: 'failed', id: 'REC-2' } }));
    expect(steps.map((s) => s.step)).toEqual([
      'recording-initiated',
      'recording-completed',
      'recording-failed',
      'recording-failed',
    ]);
    const { sealedRecordingUrl, ...rest } = steps[1].extra as { sealedRecordingUrl: never };
    expect(rest).toEqual({ recordingId: 'REC-1', recordingDurationSeconds: 9, recordingFormat: 'wav' });
    // The URL is in the event only sealed: nothing in clear, and it opens for this call alone.
    expect(JSON.stringify(steps)).not.toContain('rec.test');
    const seal = new RecordingUrlSeal(KEYS);
    const binding = { accountId: ACCOUNT, sessionId: CALL.sessionId, callId: 'CALL-1' };
    expect(seal.open(sealedRecordingUrl, binding)).toBe('https://rec.test/1');
    expect(() => seal.open(sealedRecordingUrl, { ...binding, callId: 'CALL-2' })).toThrow();
    expect(() => seal.open(sealedRecordingUrl, { ...binding, accountId: 'MA000000000000000002' })).toThrow();
    expect(() =>
      new RecordingUrlSeal(parseKeyring(testKeyring())).open(sealedRecordingUrl, binding),
    ).toThrow();
    // A step without a URL carries none, sealed or not.
    expect(steps[3].extra).not.toHaveProperty('sealedRecordingUrl');
  });

  it('changes nothing for a call this number did not connect, or another account’s', async () => {
    const { t, steps } = translator({ 'CALL-2': { ...CALL, accountId: 'MA000000000000000002' } });
    await t.translate(report('hangup', { callId: 'CALL-9' }));
    await t.translate(report('hangup', { callId: 'CALL-2' }));
    await t.translate(report('dial-ended', { virtualNumber: '+14155550200' }));
    expect(steps).toEqual([]);
  });
});
