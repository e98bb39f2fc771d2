import { verifyPlivoV3Signature } from '@maskline/webhook-signatures';
import { clip, int, type LegReport, type WebhookDialect } from './webhook-dialect';

/** Plivo's voice webhooks: `CallUUID`, numbers without `+`, X-Plivo-Signature-V3 with a nonce. */
export const plivoWebhook: WebhookDialect = {
  provider: 'plivo',

  callId: (stage, p) => (stage === 'dial-event' ? (p.DialALegUUID ?? p.CallUUID) : p.CallUUID),

  numberParams: (stage, direction) => {
    const aLeg = direction === 'inbound' ? 'To' : 'From';
    // The dialled leg shows the virtual number as its caller ID.
    return stage === 'dial-event' || stage === 'dial-ended' ? [aLeg, 'DialBLegFrom'] : [aLeg];
  },

  providerAccount: () => undefined,

  signed: (req) =>
    !!req.header('x-plivo-signature-v3-nonce') &&
    !!(req.header('x-plivo-signature-v3') ?? req.header('x-plivo-signature-ma-v3')),

  signatureValid(req, url, p, token) {
    const nonce = req.header('x-plivo-signature-v3-nonce');
    const signature = req.header('x-plivo-signature-v3') ?? req.header('x-plivo-signature-ma-v3');
    if (!nonce || !signature) return false;
    const method = req.method === 'GET' ? 'GET' : 'POST';
    return verifyPlivoV3Signature(method, url, method === 'POST' ? p : {}, nonce, token, signature);
  },

  replayKeys(req) {
    const key = this.requestKey(req);
    return key ? [key] : [];
  },

  requestKey(req) {
    const nonce = req.header('x-plivo-signature-v3-nonce');
    return nonce ? `plivo-nonce:${nonce}` : undefined;
  },

  legReport(stage, p, context): LegReport {
    return {
      digits: clip(p.Digits, 32),
      legStatus: clip(stage === 'dial-event' ? (p.DialBLegStatus ?? p.DialAction) : p.DialStatus, 32),
      legCallId: clip(p.DialBLegUUID, 64),
      durationSeconds: int(p.Duration ?? p.DialBLegDuration),
      billedDurationSeconds: int(p.BillDuration ?? p.DialBLegBillDuration),
      hangupCause: clip(p.HangupCause ?? p.DialHangupCause, 64),
      // `<Record>` calls its action as recording starts and its callbackUrl when the file is ready.
      recording:
        stage === 'recording'
          ? {
              status: context?.recording === 'start' ? 'initiated' : p.RecordUrl ? 'completed' : 'failed',
              id: clip(p.RecordingID, 64),
              url: clip(p.RecordUrl, 2048),
              durationSeconds: int(p.RecordingDuration),
            }
          : undefined,
    };
  },
};
