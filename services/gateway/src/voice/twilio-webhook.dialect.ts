import { verifyTwilioSignature } from '@maskline/webhook-signatures';
import { clip, int, type LegReport, type WebhookDialect } from './webhook-dialect';

/** Twilio's voice webhooks: `CallSid` (`ParentCallSid` on a dialled leg), X-Twilio-Signature, no nonce. */
export const twilioWebhook: WebhookDialect = {
  provider: 'twilio',

  callId: (stage, p) => (stage === 'dial-event' ? (p.ParentCallSid ?? p.CallSid) : p.CallSid),

  numberParams: (stage, direction) => {
    // A dialled leg's own From is the caller ID Maskline set: the virtual number.
    if (stage === 'dial-event') return ['From'];
    // Recording status callbacks carry no numbers.
    if (stage === 'recording') return [];
    return [direction === 'inbound' ? 'To' : 'From'];
  },

  providerAccount: (p) => p.AccountSid,

  signed: (req) => !!req.header('x-twilio-signature'),

  signatureValid(req, url, p, token) {
    const signature = req.header('x-twilio-signature');
    if (!signature) return false;
    return verifyTwilioSignature(token, url, req.method === 'POST' ? p : {}, signature);
  },

  replayKeys(req, stage, p, context) {
    const call = stage === 'dial-event' ? (p.ParentCallSid ?? p.CallSid) : p.CallSid;
    const signed = this.requestKey(req);
    if (!call || !signed) return [];
    let distinct: string;
    if (!context) distinct = `${stage}:${p.CallStatus ?? ''}`;
    else if (stage === 'dial-event') distinct = `${context.id}:${p.CallSid ?? ''}:${p.CallStatus ?? ''}`;
    else if (stage === 'recording') distinct = `${context.id}:${p.RecordingStatus ?? ''}`;
    else distinct = context.id;
    return [signed, `twilio-stage:${call}|${distinct}`];
  },

  requestKey(req) {
    const signature = req.header('x-twilio-signature');
    return signature ? `twilio-signature:${signature}` : undefined;
  },

  legReport(stage, p): LegReport {
    const status = p.RecordingStatus;
    return {
      digits: clip(p.Digits, 32),
      legStatus: clip(stage === 'dial-event' ? p.CallStatus : p.DialCallStatus, 32),
      legCallId: clip(stage === 'dial-event' ? p.CallSid : p.DialCallSid, 64),
      durationSeconds: int(p.CallDuration ?? p.DialCallDuration),
      billedDurationSeconds: int(p.CallDuration ?? p.DialCallDuration),
      hangupCause: clip(p.CallStatus === 'completed' ? 'NORMAL_CLEARING' : undefined, 64),
      recording:
        stage === 'recording'
          ? {
              status:
                status === 'in-progress' ? 'initiated' : status === 'completed' ? 'completed' : 'failed',
              id: clip(p.RecordingSid, 64),
              url: clip(p.RecordingUrl, 2048),
              durationSeconds: int(p.RecordingDuration),
            }
          : undefined,
    };
  },
};
