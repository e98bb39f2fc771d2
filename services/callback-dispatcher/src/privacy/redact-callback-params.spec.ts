import { redactCallbackParams } from './redact-callback-params';

describe('redactCallbackParams', () => {
  const redact = (e164: string) => `redacted:${e164.replace('+', 'x')}`;

  it('replaces the caller and the called, as Plivo writes them, and keeps every other parameter', () => {
    const params = { From: '14155551234', To: '14155555678', VirtualNumber: '14155550100', Duration: '7' };
    expect(redactCallbackParams(params, redact)).toEqual({
      From: 'redacted:x14155551234',
      To: 'redacted:x14155555678',
      VirtualNumber: '14155550100',
      Duration: '7',
    });
    expect(params.From).toBe('14155551234');
  });

  it('removes the URLs that lead to the call’s recording', () => {
    const params = {
      EventName: 'SessionRecordingCompleted',
      RecordingURL: 'https://media.provider.test/rec/1.mp3',
      RecordingResourceURL: 'https://media.provider.test/rec/1.mp3',
      RecordingDuration: '42',
    };
    expect(redactCallbackParams(params, redact)).toEqual({
      EventName: 'SessionRecordingCompleted',
      RecordingURL: '',
      RecordingResourceURL: '',
      RecordingDuration: '42',
    });
  });

  it('keeps the virtual number wherever it appears, and what is already redacted or absent', () => {
    expect(
      redactCallbackParams({ From: '14155550100', To: 'redacted:abc', VirtualNumber: '14155550100' }, redact),
    ).toEqual({ From: '14155550100', To: 'redacted:abc', VirtualNumber: '14155550100' });
    expect(redactCallbackParams({ EventName: 'SessionExpired' }, redact)).toEqual({
      EventName: 'SessionExpired',
    });
  });
});
