import { KeptAliveHttpClient } from '@maskline/net-guard';
import { parseXml, type XmlNode } from '@maskline/telephony-xml';
import { plivoProvider } from './plivo-provider';
import type { Params, Provider, ProviderAccount, SimulatedProvider } from './simulated-provider';
import { twilioProvider } from './twilio-provider';

/**
 * Every simulator's webhooks, over kept-alive connections (idle ones never keep a process alive):
 * a benchmark's load generator shares the machine with what it measures, and `fetch` cost it more
 * CPU per webhook than the gateway spent answering it.
 */
const http = new KeptAliveHttpClient();
/** A webhook's answer waits at most this long (Maskline answers in milliseconds). */
const WEBHOOK_TIMEOUT_MS = 30_000;

const PROVIDERS: Record<Provider, SimulatedProvider> = { plivo: plivoProvider, twilio: twilioProvider };

/** How a provider writes its webhooks (ids, call and message parameters, signatures): for tests that send them by hand. */
export function simulatedProvider(provider: Provider): SimulatedProvider {
  return PROVIDERS[provider];
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
  /** Use this call id, not a new one (a forger who learned another call's id). */
  callId?: string;
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
  /** Every webhook request in order, with how long Maskline took to answer it and when it did (epoch ms). */
  requests: Array<{ url: string; status: number; xml: string; ms: number; answeredAt: number }>;
}

/** A text message to a virtual number, as the provider delivers it to Maskline's message webhook. */
export interface TextScript {
  from: string;
  to: string;
  text: string;
  /** MMS media URLs (relayed by Maskline, never fetched). */
  media?: string[];
  /** Send the same message id again (a provider retrying its webhook). */
  messageId?: string;
  /** Send it unsigned or signed with this token instead (to test refusal). */
  signWith?: string | null;
}

/**
 * Plays a telephony provider against Maskline's webhooks: places a call, signs every request the
 * way Plivo or Twilio does, follows the XML it gets back (plays and speech are logged, digits go
 * to the gather's action, dials ring/answer/hang up the dialled leg through the callbacks), and
 * reports what the caller experienced.
 */
export class TelephonySimulator {
  private readonly dialect: SimulatedProvider;

  constructor(
    private readonly gatewayUrl: string,
    readonly provider: Provider,
    private readonly account: ProviderAccount,
  ) {
    this.dialect = PROVIDERS[provider];
  }

  async call(script: CallScript): Promise<CallReport> {
    const callId = script.callId ?? this.dialect.newCallId();
    const report: CallReport = { callId, transcript: [], heard: [], prompts: 0, dials: [], requests: [] };
    const base = this.dialect.callParams(callId, script.from, script.to, this.account);
    const digits = [...(script.digits ?? [])];
    let url = script.answerUrl ?? `${this.gatewayUrl}/voice/${this.provider}/answer`;
    let params: Params = base;
    let talked = 0;
    for (let step = 0; step < 30 && url; step++) {
      const t0 = performance.now();
      const res = await this.post(url, params, script.signWith);
      report.requests.push({
        url,
        status: res.status,
        xml: res.body,
        ms: performance.now() - t0,
        answeredAt: Date.now(),
      });
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
      this.dialect.hangup(base, talked),
      script.signWith,
    );
    report.transcript.push('caller hung up');
    return report;
  }

  /** Executes verbs in order; returns where the provider would go next, or undefined when the call ends. */
  private async follow(
    verbs: XmlNode[],
    script: CallScript,
    base: Params,
    digits: string[],
    report: CallReport,
    talk: (seconds: number) => void,
  ): Promise<{ url: string; params: Params } | undefined> {
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
    base: Params,
    report: CallReport,
    talk: (seconds: number) => void,
    record?: XmlNode,
  ) {
    const numberEl = verb.children.find((c) => c.name === 'Number');
    if (!numberEl) throw new Error('<Dial> without <Number>');
    const answers = script.callee?.answers ?? true;
    const seconds = answers ? (script.callee?.talkSeconds ?? 30) : 0;
    const leg = this.dialect.dialedLeg(verb, numberEl, record);
    report.dials.push({
      number: leg.number,
      callerId: leg.callerId,
      timeout: Number(verb.attrs.timeout),
      timeLimit: Number(verb.attrs.timeLimit),
      record: leg.record,
      answered: answers,
    });
    report.transcript.push(
      `dialled ${numberEl.text} showing ${verb.attrs.callerId}: ${answers ? `answered, talked ${seconds} s` : 'no answer'}`,
    );
    const legId = this.dialect.newCallId();
    for (const status of answers ? (['ringing', 'answered'] as const) : (['ringing'] as const)) {
      await this.post(
        leg.eventsUrl,
        this.dialect.legEvent(base, legId, status, this.account),
        script.signWith,
      );
    }
    const recordings = this.dialect.recordingCallbacks(verb, record, base, answers, seconds, this.account);
    for (const [url, params] of recordings) await this.post(url, params, script.signWith);
    if (answers && recordings.length > 0) report.transcript.push('recording started');
    talk(seconds);
    return { url: verb.attrs.action, params: this.dialect.dialEnded(base, legId, answers, seconds) };
  }

  /**
   * Delivers a text message to Maskline's message webhook, signed as the provider signs; Maskline
   * answers at once and relays it from its stream (the send reaches the provider's REST API).
   */
  async text(script: TextScript): Promise<{ messageId: string; status: number }> {
    const messageId = script.messageId ?? this.dialect.newMessageId();
    const params = this.dialect.messageParams(
      messageId,
      script.from,
      script.to,
      script.text,
      script.media ?? [],
      this.account,
    );
    const res = await this.post(
      `${this.gatewayUrl}/messaging/${this.provider}/inbound`,
      params,
      script.signWith,
    );
    return { messageId, status: res.status };
  }

  /** Posts form parameters, signed as the provider signs (checked against the provider's own library). */
  async post(
    url: string,
    params: Params,
    signWith?: string | null,
  ): Promise<{ status: number; body: string }> {
    const token = signWith === undefined ? this.account.authToken : signWith;
    const headers: Params = {
      'content-type': 'application/x-www-form-urlencoded',
      ...(token === null ? {} : this.dialect.sign(url, params, token)),
    };
    const res = await http.post(url, headers, new URLSearchParams(params).toString(), WEBHOOK_TIMEOUT_MS);
    return { status: res.status, body: res.body };
  }
}
