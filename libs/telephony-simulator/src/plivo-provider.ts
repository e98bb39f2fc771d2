import { randomBytes, randomUUID } from 'node:crypto';
import * as plivo from 'plivo';
import { fromPlivoNumber, toPlivoNumber } from '@maskline/plivo-wire';
import { plivoV3Signature } from '@maskline/webhook-signatures';
import type { SimulatedProvider } from './simulated-provider';

/** Plivo: `CallUUID`s, numbers without `+`, `<Record>` beside `<Dial>`, V3 signatures with a nonce. */
export const plivoProvider: SimulatedProvider = {
  name: 'plivo',
  newCallId: () => randomUUID(),
  newMessageId: () => randomUUID(),

  messageParams: (messageId, from, to, text, media) => ({
    MessageUUID: messageId,
    From: toPlivoNumber(from),
    To: toPlivoNumber(to),
    Text: text,
    Type: media.length > 0 ? 'mms' : 'sms',
    ...Object.fromEntries(media.map((url, i) => [`Media${i}`, url])),
  }),

  callParams: (callId, from, to) => ({
    CallUUID: callId,
    From: toPlivoNumber(from),
    To: toPlivoNumber(to),
    Direction: 'inbound',
    CallStatus: 'in-progress',
    Event: 'StartApp',
  }),

  dialedLeg: (dial, number, record) => ({
    number: fromPlivoNumber(number.text) ?? number.text,
    callerId: fromPlivoNumber(dial.attrs.callerId) ?? dial.attrs.callerId,
    record: record?.attrs.recordSession === 'true',
    eventsUrl: dial.attrs.callbackUrl,
  }),

  legEvent: (base, leg, status) => ({
    ...base,
    DialAction: status === 'answered' ? 'answer' : 'ring',
    DialBLegStatus: status === 'answered' ? 'answer' : 'ringing',
    DialBLegUUID: leg,
    DialALegUUID: base.CallUUID,
  }),

  dialEnded: (base, leg, answered, seconds) => ({
    ...base,
    DialStatus: answered ? 'completed' : 'no-answer',
    DialBLegUUID: leg,
    DialALegUUID: base.CallUUID,
    DialBLegDuration: String(seconds),
    DialBLegBillDuration: String(Math.ceil(seconds / 60) * 60),
  }),

  hangup: (base, seconds) => ({
    ...base,
    CallStatus: 'completed',
    Duration: String(seconds),
    BillDuration: String(Math.ceil(seconds / 60) * 60),
    HangupCause: 'NORMAL_CLEARING',
  }),

  // `<Record>` calls its action as recording starts and its callbackUrl when the file is ready.
  recordingCallbacks(_dial, record, base, answered, seconds, account) {
    if (!record || !answered) return [];
    const id = randomUUID();
    const file = `https://media.plivo.example/v1/Account/${account.accountId}/Recording/${id}.${record.attrs.fileFormat ?? 'mp3'}`;
    const started = { ...base, RecordUrl: file, RecordingID: id };
    const out: Array<[string, Record<string, string>]> = [];
    if (record.attrs.action) out.push([record.attrs.action, started]);
    if (record.attrs.callbackUrl) {
      out.push([
        record.attrs.callbackUrl,
        { ...started, RecordingDuration: String(seconds), RecordingDurationMs: String(seconds * 1000) },
      ]);
    }
    return out;
  },

  sign(url, params, token) {
    const nonce = randomBytes(12).toString('hex');
    const signature = plivoV3Signature('POST', url, params, nonce, token);
    if (!plivo.validateV3Signature('POST', url, nonce, token, signature, params)) {
      throw new Error('the simulator signed a request plivo-node would not accept');
    }
    return { 'X-Plivo-Signature-V3': signature, 'X-Plivo-Signature-V3-Nonce': nonce };
  },
};
