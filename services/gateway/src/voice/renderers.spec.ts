import * as plivo from 'plivo';
import * as twilio from 'twilio';
import type { CallAction, FollowUp } from '@maskline/contracts';
import { renderPlivoXml } from './plivo-xml.renderer';
import { renderTwiml } from './twiml.renderer';

/** plivo-node's XML builder (its bundled typings do not declare the constructor). */
interface PlivoXmlNode {
  addSpeak(text: string): PlivoXmlNode;
  addPlay(url: string): PlivoXmlNode;
  addWait(attrs: object): PlivoXmlNode;
  addHangup(): PlivoXmlNode;
  addRedirect(url: string, attrs: object): PlivoXmlNode;
  addGetDigits(attrs: object): PlivoXmlNode;
  addDial(attrs: object): PlivoXmlNode;
  addNumber(number: string): PlivoXmlNode;
  addRecord(attrs: object): PlivoXmlNode;
  toXML(): string;
}
const PlivoResponse = (plivo as unknown as { Response: new () => PlivoXmlNode }).Response;

const BASE = 'https://maskline.example.com/voice';
/** Stands in for the signed context the gateway mints: what matters here is where each follow-up goes. */
const url = (dialect: string) => (f: FollowUp) =>
  `${BASE}/${dialect}/${f.stage}?ctx=${[f.pinAttempt, f.recording].filter(Boolean).join('-') || 'x'}`;

const pinPrompt: CallAction[] = [
  {
    type: 'gather',
    next: { stage: 'pin', pinAttempt: 1, callerRegistered: false },
    numDigits: 6,
    timeoutSeconds: 10,
    prompt: [{ say: 'Enter your PIN & press #' }],
  },
];
const connect: CallAction[] = [
  { type: 'play', url: 'https://cdn.example.com/hello.mp3' },
  {
    type: 'dial',
    number: '+14155551001',
    callerId: '+14155550100',
    timeoutSeconds: 45,
    timeLimitSeconds: 3600,
    record: false,
    recordFormat: 'mp3',
    onEnded: { stage: 'dial-ended' },
    onLegEvent: { stage: 'dial-event' },
  },
];
const recorded: CallAction[] = [
  {
    type: 'dial',
    number: '+14155551001',
    callerId: '+14155550100',
    timeoutSeconds: 30,
    timeLimitSeconds: 600,
    record: true,
    recordFormat: 'wav',
    onEnded: { stage: 'dial-ended' },
    onLegEvent: { stage: 'dial-event' },
    onRecording: { stage: 'recording' },
  },
];
const refuse: CallAction[] = [
  { type: 'say', text: 'Goodbye.' },
  { type: 'pause', seconds: 5 },
  { type: 'hangup' },
];

describe('TwiML equals what Twilio’s own builder produces for the same intent', () => {
  it('PIN prompt', () => {
    const v = new twilio.twiml.VoiceResponse();
    const g = v.gather({
      action: `${BASE}/twilio/pin?ctx=1`,
      method: 'POST',
      input: ['dtmf'],
      timeout: 10,
      finishOnKey: '#',
      numDigits: 6,
      actionOnEmptyResult: true,
    });
    g.say('Enter your PIN & press #');
    v.redirect({ method: 'POST' }, `${BASE}/twilio/pin?ctx=1`);
    expect(renderTwiml(pinPrompt, url('twilio'))).toBe(v.toString());
  });

  it('connecting the parties', () => {
    const v = new twilio.twiml.VoiceResponse();
    v.play('https://cdn.example.com/hello.mp3');
    const d = v.dial({
      callerId: '+14155550100',
      timeout: 45,
      timeLimit: 3600,
      action: `${BASE}/twilio/dial-ended?ctx=x`,
      method: 'POST',
    });
    d.number(
      {
        statusCallback: `${BASE}/twilio/dial-event?ctx=x`,
        statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
        statusCallbackMethod: 'POST',
      },
      '+14155551001',
    );
    expect(renderTwiml(connect, url('twilio'))).toBe(v.toString());
  });

  it('a recorded call', () => {
    const v = new twilio.twiml.VoiceResponse();
    const d = v.dial({
      callerId: '+14155550100',
      timeout: 30,
      timeLimit: 600,
      action: `${BASE}/twilio/dial-ended?ctx=x`,
      method: 'POST',
      record: 'record-from-answer-dual',
      recordingStatusCallback: `${BASE}/twilio/recording?ctx=x`,
      recordingStatusCallbackEvent: ['in-progress', 'completed', 'absent'],
      recordingStatusCallbackMethod: 'POST',
    });
    d.number(
      {
        statusCallback: `${BASE}/twilio/dial-event?ctx=x`,
        statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
        statusCallbackMethod: 'POST',
      },
      '+14155551001',
    );
    expect(renderTwiml(recorded, url('twilio'))).toBe(v.toString());
  });

  it('a message, a pause and hanging up; and nothing', () => {
    const v = new twilio.twiml.VoiceResponse();
    v.say('Goodbye.');
    v.pause({ length: 5 });
    v.hangup();
    expect(renderTwiml(refuse, url('twilio'))).toBe(v.toString());
    expect(renderTwiml([], url('twilio'))).toBe(new twilio.twiml.VoiceResponse().toString());
  });
});

describe('Plivo XML equals what Plivo’s own builder produces', () => {
  const strip = (xml: string) => xml.replace(/^<\?xml[^>]*\?>/, '');

  it('PIN prompt', () => {
    const r = new PlivoResponse();
    const g = r.addGetDigits({
      action: `${BASE}/plivo/pin?ctx=1`,
      method: 'POST',
      timeout: 10,
      finishOnKey: '#',
      numDigits: 6,
      retries: 1,
      redirect: 'true',
      log: 'false',
    });
    g.addSpeak('Enter your PIN & press #');
    r.addRedirect(`${BASE}/plivo/pin?ctx=1`, { method: 'POST' });
    expect(strip(renderPlivoXml(pinPrompt, url('plivo')))).toBe(r.toXML());
  });

  it('connecting the parties, and refusing', () => {
    const r = new PlivoResponse();
    r.addPlay('https://cdn.example.com/hello.mp3');
    const d = r.addDial({
      callerId: '14155550100',
      timeout: 45,
      timeLimit: 3600,
      action: `${BASE}/plivo/dial-ended?ctx=x`,
      method: 'POST',
      callbackUrl: `${BASE}/plivo/dial-event?ctx=x`,
      callbackMethod: 'POST',
      redirect: 'true',
    });
    d.addNumber('14155551001');
    expect(strip(renderPlivoXml(connect, url('plivo')))).toBe(r.toXML());
    const rec = new PlivoResponse();
    rec.addRecord({
      recordSession: 'true',
      startOnDialAnswer: 'true',
      fileFormat: 'wav',
      redirect: 'false',
      maxLength: 600,
      action: `${BASE}/plivo/recording?ctx=start`,
      method: 'POST',
      callbackUrl: `${BASE}/plivo/recording?ctx=done`,
      callbackMethod: 'POST',
    });
    rec
      .addDial({
        callerId: '14155550100',
        timeout: 30,
        timeLimit: 600,
        action: `${BASE}/plivo/dial-ended?ctx=x`,
        method: 'POST',
        callbackUrl: `${BASE}/plivo/dial-event?ctx=x`,
        callbackMethod: 'POST',
        redirect: 'true',
      })
      .addNumber('14155551001');
    expect(strip(renderPlivoXml(recorded, url('plivo')))).toBe(rec.toXML());
    const q = new PlivoResponse();
    q.addSpeak('Goodbye.');
    q.addWait({ length: 5 });
    q.addHangup();
    expect(strip(renderPlivoXml(refuse, url('plivo')))).toBe(q.toXML());
  });
});
