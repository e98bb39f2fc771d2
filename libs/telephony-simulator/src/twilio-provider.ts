import { randomBytes } from 'node:crypto';
import * as twilio from 'twilio';
import type { SimulatedProvider } from './simulated-provider';

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

/** Twilio: `CallSid`s, E.164 numbers, recording on `<Dial>` itself, X-Twilio-Signature. */
export const twilioProvider: SimulatedProvider = {
  name: 'twilio',
  newCallId: () => sid('CA'),
  newMessageId: () => sid('SM'),

  messageParams: (messageId, from, to, text, media, account) => ({
    MessageSid: messageId,
    SmsMessageSid: messageId,
    AccountSid: account.accountId,
    From: from,
    To: to,
    Body: text,
    NumMedia: String(media.length),
    NumSegments: '1',
    ...Object.fromEntries(
      media.flatMap((url, i) => [
        [`MediaUrl${i}`, url],
        [`MediaContentType${i}`, 'image/jpeg'],
      ]),
    ),
  }),

  callParams: (callId, from, to, account) => ({
    CallSid: callId,
    AccountSid: account.accountId,
    From: from,
    To: to,
    Direction: 'inbound',
    CallStatus: 'in-progress',
  }),

  dialedLeg: (dial, number) => ({
    number: number.text,
    callerId: dial.attrs.callerId,
    record: !!dial.attrs.record,
    eventsUrl: number.attrs.statusCallback,
  }),

  // A dialled leg is a call of its own: its From is the caller ID Maskline set.
  legEvent: (base, leg, status, account) => ({
    CallSid: leg,
    ParentCallSid: base.CallSid,
    AccountSid: account.accountId,
    From: base.To,
    To: '',
    CallStatus: status === 'answered' ? 'in-progress' : 'ringing',
    Direction: 'outbound-dial',
  }),

  dialEnded: (base, leg, answered, seconds) => ({
    ...base,
    DialCallStatus: answered ? 'completed' : 'no-answer',
    DialCallSid: leg,
    DialCallDuration: String(seconds),
  }),

  hangup: (base, seconds) => ({ ...base, CallStatus: 'completed', CallDuration: String(seconds) }),

  recordingCallbacks(dial, _record, base, answered, seconds, account) {
    const callback = dial.attrs.recordingStatusCallback;
    if (!dial.attrs.record || !callback) return [];
    const recording = sid('RE');
    const params = (status: string) => ({
      AccountSid: account.accountId,
      CallSid: base.CallSid,
      RecordingSid: recording,
      RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${account.accountId}/Recordings/${recording}`,
      RecordingStatus: status,
      RecordingDuration: status === 'completed' ? String(seconds) : '-1',
      RecordingChannels: '2',
      RecordingSource: 'DialVerb',
    });
    if (!answered) return [[callback, params('absent')]];
    return [
      [callback, params('in-progress')],
      [callback, params('completed')],
    ];
  },

  sign: (url, params, token) => ({
    'X-Twilio-Signature': twilio.getExpectedTwilioSignature(token, url, params),
  }),
};
