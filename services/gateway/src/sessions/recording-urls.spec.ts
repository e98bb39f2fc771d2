import pino from 'pino';
import { RecordingUrlSeal, type Interaction, type SessionView } from '@maskline/contracts';
import { parseKeyring } from '@maskline/crypto';
import { testKeyring } from '@maskline/testing';
import { RecordingUrls } from './recording-urls';
import { plivoSession } from './session.view';

const KEYS = parseKeyring(testKeyring('rec1'));
const SESSION = { accountId: 'MA0000000000000000A1', sessionId: '0193a2b4-0000-7000-8000-000000000001' };
const URL = 'https://rec.test/Recordings/RE1';

function urls() {
  const logged: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(line) });
  return { recordingUrls: new RecordingUrls({ RECORDING_URL_KEYS: KEYS }, logger), logged };
}

const call = (over: Partial<Interaction>): Interaction => ({
  type: 'call',
  callId: 'CA1',
  startTime: '2026-01-01T00:00:00.000Z',
  endTime: '2026-01-01T00:01:00.000Z',
  firstPartyCallUuid: null,
  secondPartyCallUuid: null,
  firstPartyStatus: null,
  secondPartyStatus: null,
  durationSeconds: 60,
  billedDurationSeconds: 60,
  recordingUrl: null,
  sealedRecordingUrl: null,
  legs: 1,
  callerRole: null,
  message: null,
  ...over,
});

describe('RecordingUrls', () => {
  const sealedFor = (callId: string, keys = KEYS) =>
    new RecordingUrlSeal(keys).seal(URL, { ...SESSION, callId });

  it('opens the URL sealed for this session’s call', () => {
    const { recordingUrls } = urls();
    expect(recordingUrls.of(SESSION as SessionView, call({ sealedRecordingUrl: sealedFor('CA1') }))).toBe(
      URL,
    );
    expect(
      recordingUrls.of(SESSION as SessionView, call({ callId: 'CA2', sealedRecordingUrl: sealedFor('CA2') })),
    ).toBe(URL);
  });

  it('shows a URL stored in clear (before the seal) as it is, and none when there is none', () => {
    const { recordingUrls } = urls();
    expect(recordingUrls.of(SESSION as SessionView, call({ recordingUrl: 'https://rec.test/old' }))).toBe(
      'https://rec.test/old',
    );
    expect(recordingUrls.of(SESSION as SessionView, call({}))).toBeNull();
  });

  it('shows none for a URL sealed for another call, session or account, or with a key not held: logged by key id, never the URL', () => {
    const { recordingUrls, logged } = urls();
    const other = sealedFor('CA2');
    expect(recordingUrls.of(SESSION as SessionView, call({ sealedRecordingUrl: other }))).toBeNull();
    const otherAccount = { ...SESSION, accountId: 'MA0000000000000000B2' } as SessionView;
    expect(recordingUrls.of(otherAccount, call({ sealedRecordingUrl: sealedFor('CA1') }))).toBeNull();
    const gone = sealedFor('CA1', parseKeyring(testKeyring('gone')));
    expect(recordingUrls.of(SESSION as SessionView, call({ sealedRecordingUrl: gone }))).toBeNull();
    expect(logged).toHaveLength(3);
    expect(JSON.parse(logged[2])).toMatchObject({ level: 50, keyId: 'gone' });
    expect(logged.join('')).not.toContain('rec.test');
    expect(logged.join('')).not.toContain(gone.ct);
  });

  it('is what the Plivo view shows as a call’s recording_resource_url', () => {
    const { recordingUrls } = urls();
    const session = {
      ...SESSION,
      subaccountId: null,
      firstParty: '+14155550101',
      secondParty: '+14155550102',
      virtualNumber: '+14155550100',
      status: 'active',
      createdAt: '2026-01-01T00:00:00.000Z',
      modifiedAt: '2026-01-01T00:00:00.000Z',
      expiresAt: '2026-01-01T01:00:00.000Z',
      durationSeconds: 3600,
      settings: { isPinAuthenticationRequired: false },
      firstPartyPin: null,
      secondPartyPin: null,
      interactions: [call({ sealedRecordingUrl: sealedFor('CA1') })],
      totalCallCount: 1,
      totalCallBilledDurationSeconds: 60,
      totalMessageCount: 0,
      lastInteractionTime: null,
    } as unknown as SessionView;
    const view = plivoSession(session, (s, i) => recordingUrls.of(s, i));
    expect((view.interaction as Array<Record<string, unknown>>)[0].recording_resource_url).toBe(URL);
  });
});
