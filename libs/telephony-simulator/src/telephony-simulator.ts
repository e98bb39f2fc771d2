import { randomBytes, randomUUID } from 'node:crypto';
import * as plivo from 'plivo';
import * as twilio from 'twilio';
import { plivoV3Signature } from '@maskline/webhook-signatures';
import { parseXml, type XmlNode } from './mini-xml';

export type Provider = 'plivo' | 'twilio';

export interface ProviderAccount {
  /** Plivo Auth ID / Twilio Account SID. */
  accountId: string;
  authToken: string;
}

export interface CallScript {
  from: string;
  to: string;
  /** What the caller types at each prompt, in order ('' types nothing). */
  digits?: string[];
  /** What a dialled phone does. */
  callee?: { answers: boolean; talkSeconds?: number };
  /** Start at an outbound-answer URL instead (a call Maskline placed). */
  answerUrl?: string;
  /** Where the provider reports the end of the call (Maskline gives its own URL for calls it places). */
  hangupUrl?: string;
  /** Send the requests unsigned or signed with this token instead (to test refusal). */
  signWith?: string | null;
}

export interface DialRecord {
  number: string;
  callerId: string;
  timeout: number;
  timeLimit: number;
  record: boolean;
  answered: boolean;
}

/** What the caller experienced, step by step. */
export interface CallReport {
  callId: string;
  transcript: string[];
  heard: string[];
  prompts: number;
  dials: DialRecord[];
  /** HTTP status of a request the gateway refused (the call ends there). */
  refused?: number;
  requests: Array<{ url: string; status: number; xml: string }>;
}

/**
 * Plays a telephony provider against Maskline's webhooks: places a call, signs every request the
 * way Plivo or Twilio does, follows the XML it gets back (plays and speech are logged, digits go
 * to the gather's action, dials ring/answer/hang up the dialled leg through the callbacks), and
 * reports what the caller experienced.
 */
export class TelephonySimulator {
  constructor(
    private readonly gatewayUrl: string,
    readonly provider: Provider,
    private readonly account: ProviderAccount,
  ) {}

  async call(script: CallScript): Promise<CallReport> {
    const callId = this.provider === 'plivo' ? randomUUID() : `CA${randomBytes(16).toString('hex')}`;
    const report: CallReport = { callId, transcript: [], heard: [], prompts: 0, dials: [], requests: [] };
    const base = this.callParams(callId, script.from, script.to);
    const digits = [...(script.digits ?? [])];
    let url = script.answerUrl ?? `${this.gatewayUrl}/voice/${this.provider}/answer`;
    let params: Record<string, string> = base;
    let talked = 0;
    for (let step = 0; step < 30 && url; step++) {
      const res = await this.post(url, params, script.signWith);
      report.requests.push({ url, status: res.status, xml: res.body });
      if (res.status !== 200) {
        report.refused = res.status;
        report.transcript.push(`request refused: HTTP ${res.status}`);
        return report;
      }
      const doc = parseXml(res.body);
      if (doc.name !== 'Response') throw new Error(`expected <Response>, got <${doc.name}>`);
      const next = await this.follow(
        doc.children,
        script,
        base,
        digits,
        report,
        (seconds) => (talked += seconds),
      );
      if (!next) break;
      url = next.url;
      params = next.params;
    }
    await this.post(
      script.hangupUrl ?? `${this.gatewayUrl}/voice/${this.provider}/hangup`,
      this.hangupParams(base, talked),
      script.signWith,
    );
    report.transcript.push('caller hung up');
    return report;
  }

  /** Executes verbs in order; returns where the provider would go next, or undefined when the call ends. */
  private async follow(
    verbs: XmlNode[],
    script: CallScript,
    base: Record<string, string>,
    digits: string[],
    report: CallReport,
    talk: (seconds: number) => void,
  ): Promise<{ url: string; params: Record<string, string> } | undefined> {
    let record: XmlNode | undefined;
    for (const verb of verbs) {
      switch (verb.name) {
        case 'Play':
          report.heard.push(`play:${verb.text}`);
          report.transcript.push(`heard recording ${verb.text}`);
          break;
        case 'Speak':
        case 'Say':
          report.heard.push(`say:${verb.text}`);
          report.transcript.push(`heard "${verb.text}"`);
          break;
        case 'Wait':
        case 'Pause':
          report.transcript.push(`waited ${verb.attrs.length ?? 1} s`);
          break;
        case 'GetDigits':
        case 'Gather': {
          report.prompts++;
          for (const child of verb.children) {
            report.heard.push(`${child.name === 'Play' ? 'play' : 'say'}:${child.text}`);
            report.transcript.push(
              child.name === 'Play' ? `heard recording ${child.text}` : `heard "${child.text}"`,
            );
          }
          const typed = digits.shift() ?? '';
          if (!typed) {
            report.transcript.push('typed nothing');
            break; // timeout: on to the next verb
          }
          report.transcript.push(`typed ${typed.replace(/./g, '*')}#`);
          return { url: verb.attrs.action, params: { ...base, Digits: typed } };
        }
        case 'Redirect':
          return { url: verb.text, params: { ...base, Digits: '' } };
        case 'Record':
          record = verb;
          report.transcript.push('recording armed');
          break;
        case 'Dial':
          return this.dial(verb, script, base, report, talk, record);
        case 'Hangup':
          report.transcript.push('Maskline hung up');
          return undefined;
        default:
          throw new Error(`unexpected verb <${verb.name}>`);
      }
    }
    return undefined;
  }

  private async dial(
    verb: XmlNode,
    script: CallScript,
    base: Record<string, string>,
    report: CallReport,
    talk: (seconds: number) => void,
    record?: XmlNode,
  ) {
    const numberEl = verb.children.find((c) => c.name === 'Number');
    if (!numberEl) throw new Error('<Dial> without <Number>');
    const answers = script.callee?.answers ?? true;
    const seconds = answers ? (script.callee?.talkSeconds ?? 30) : 0;
    const dialled = numberEl.text;
    report.dials.push({
      number: this.provider === 'plivo' ? `+${dialled.replace(/^\+/, '')}` : dialled,
      callerId:
        this.provider === 'plivo' ? `+${verb.attrs.callerId.replace(/^\+/, '')}` : verb.attrs.callerId,
      timeout: Number(verb.attrs.timeout),
      timeLimit: Number(verb.attrs.timeLimit),
      record: this.provider === 'plivo' ? record?.attrs.recordSession === 'true' : !!verb.attrs.record,
      answered: answers,
    });
    report.transcript.push(
      `dialled ${dialled} showing ${verb.attrs.callerId}: ${answers ? `answered, talked ${seconds} s` : 'no answer'}`,
    );
    const leg = this.provider === 'plivo' ? randomUUID() : `CA${randomBytes(16).toString('hex')}`;
    const eventsUrl = this.provider === 'plivo' ? verb.attrs.callbackUrl : numberEl.attrs.statusCallback;
    for (const status of answers ? ['ringing', 'answered'] : ['ringing']) {
      await this.post(eventsUrl, this.legEvent(base, leg, status), script.signWith);
    }
    await this.recordingCallbacks(verb, record, base, answers, seconds, script.signWith, report);
    talk(seconds);
    return { url: verb.attrs.action, params: this.dialEnded(base, leg, answers, seconds) };
  }

  /** A recorded call: Plivo's `<Record>` action and callbackUrl, or Twilio's recordingStatusCallback. */
  private async recordingCallbacks(
    dial: XmlNode,
    record: XmlNode | undefined,
    base: Record<string, string>,
    answered: boolean,
    seconds: number,
    signWith: string | null | undefined,
    report: CallReport,
  ): Promise<void> {
    const id = randomUUID();
    if (this.provider === 'plivo') {
      if (!record || !answered) return;
      const file = `https://media.plivo.example/v1/Account/${this.account.accountId}/Recording/${id}.${record.attrs.fileFormat ?? 'mp3'}`;
      const started = { ...base, RecordUrl: file, RecordingID: id };
      if (record.attrs.action) await this.post(record.attrs.action, started, signWith);
      report.transcript.push('recording started');
      if (record.attrs.callbackUrl) {
        await this.post(
          record.attrs.callbackUrl,
          {
            ...started,
            RecordingDuration: String(seconds),
            RecordingDurationMs: String(seconds * 1000),
          },
          signWith,
        );
      }
      return;
    }
    const callback = dial.attrs.recordingStatusCallback;
    if (!dial.attrs.record || !callback) return;
    const sid = `RE${randomBytes(16).toString('hex')}`;
    const params = (status: string) => ({
      AccountSid: this.account.accountId,
      CallSid: base.CallSid,
      RecordingSid: sid,
      RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${this.account.accountId}/Recordings/${sid}`,
      RecordingStatus: status,
      RecordingDuration: status === 'completed' ? String(seconds) : '-1',
      RecordingChannels: '2',
      RecordingSource: 'DialVerb',
    });
    if (!answered) {
      await this.post(callback, params('absent'), signWith);
      return;
    }
    await this.post(callback, params('in-progress'), signWith);
    report.transcript.push('recording started');
    await this.post(callback, params('completed'), signWith);
  }

  private callParams(callId: string, from: string, to: string): Record<string, string> {
    if (this.provider === 'plivo') {
      return {
        CallUUID: callId,
        From: from.replace(/^\+/, ''),
        To: to.replace(/^\+/, ''),
        Direction: 'inbound',
        CallStatus: 'in-progress',
        Event: 'StartApp',
      };
    }
    return {
      CallSid: callId,
      AccountSid: this.account.accountId,
      From: from,
      To: to,
      Direction: 'inbound',
      CallStatus: 'in-progress',
    };
  }

  private legEvent(base: Record<string, string>, leg: string, status: string): Record<string, string> {
    if (this.provider === 'plivo') {
      return {
        ...base,
        DialAction: status === 'answered' ? 'answer' : 'ring',
        DialBLegStatus: status === 'answered' ? 'answer' : 'ringing',
        DialBLegUUID: leg,
        DialALegUUID: base.CallUUID,
      };
    }
    return {
      CallSid: leg,
      ParentCallSid: base.CallSid,
      AccountSid: this.account.accountId,
      From: base.To,
      To: '',
      CallStatus: status === 'answered' ? 'in-progress' : 'ringing',
      Direction: 'outbound-dial',
    };
  }

  private dialEnded(
    base: Record<string, string>,
    leg: string,
    answered: boolean,
    seconds: number,
  ): Record<string, string> {
    if (this.provider === 'plivo') {
      return {
        ...base,
        DialStatus: answered ? 'completed' : 'no-answer',
        DialBLegUUID: leg,
        DialALegUUID: base.CallUUID,
        DialBLegDuration: String(seconds),
        DialBLegBillDuration: String(Math.ceil(seconds / 60) * 60),
      };
    }
    return {
      ...base,
      DialCallStatus: answered ? 'completed' : 'no-answer',
      DialCallSid: leg,
      DialCallDuration: String(seconds),
    };
  }

  private hangupParams(base: Record<string, string>, seconds: number): Record<string, string> {
    if (this.provider === 'plivo') {
      return {
        ...base,
        CallStatus: 'completed',
        Duration: String(seconds),
        BillDuration: String(Math.ceil(seconds / 60) * 60),
        HangupCause: 'NORMAL_CLEARING',
      };
    }
    return { ...base, CallStatus: 'completed', CallDuration: String(seconds) };
  }

  /** Posts form parameters, signed as the provider signs (checked against the provider's own library). */
  async post(
    url: string,
    params: Record<string, string>,
    signWith?: string | null,
  ): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    const token = signWith === undefined ? this.account.authToken : signWith;
    if (token !== null) {
      if (this.provider === 'plivo') {
        const nonce = randomBytes(12).toString('hex');
        const signature = plivoV3Signature('POST', url, params, nonce, token);
        if (!plivo.validateV3Signature('POST', url, nonce, token, signature, params)) {
          throw new Error('the simulator signed a request plivo-node would not accept');
        }
        headers['X-Plivo-Signature-V3'] = signature;
        headers['X-Plivo-Signature-V3-Nonce'] = nonce;
      } else {
        headers['X-Twilio-Signature'] = twilio.getExpectedTwilioSignature(token, url, params);
      }
    }
    const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
    return { status: res.status, body: await res.text() };
  }
}
