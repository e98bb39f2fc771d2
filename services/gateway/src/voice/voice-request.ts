import type { RpcRequestOf, RouteCall, TelephonyProvider } from '@maskline/contracts';

export const VOICE_STAGES = [
  'answer',
  'pin',
  'dial-ended',
  'dial-event',
  'hangup',
  'outbound-answer',
  'recording',
] as const;
export type VoiceStage = (typeof VOICE_STAGES)[number];

/** Plivo writes numbers without `+`; routing compares E.164. */
const e164 = (v: string | undefined) => (v && /^\d{7,15}$/.test(v) ? `+${v}` : v);
const int = (v: string | undefined) => (v && /^\d+$/.test(v) ? Number(v) : undefined);
const clip = (v: string | undefined, n: number) => (v === undefined ? undefined : v.slice(0, n));

/** Turns a provider's webhook parameters into a routing request; `query` is Maskline's own context. */
export function toRouteRequest(
  provider: TelephonyProvider,
  stage: VoiceStage,
  p: Record<string, string>,
  query: Record<string, string>,
): RpcRequestOf<typeof RouteCall> {
  const common = {
    provider,
    stage,
    from: clip(e164(p.From), 32) ?? '',
    to: clip(e164(p.To), 32) ?? '',
    digits: clip(p.Digits, 32),
    query: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v.slice(0, 128)])),
  };
  if (provider === 'plivo') {
    return {
      ...common,
      recording: stage === 'recording' ? plivoRecording(p, query) : undefined,
      callId: clip(p.CallUUID ?? p.DialALegUUID ?? query.c ?? 'unknown', 64) as string,
      legStatus: clip(stage === 'dial-event' ? (p.DialBLegStatus ?? p.DialAction) : p.DialStatus, 32),
      legCallId: clip(p.DialBLegUUID, 64),
      durationSeconds: int(p.Duration ?? p.DialBLegDuration),
      billedDurationSeconds: int(p.BillDuration ?? p.DialBLegBillDuration),
      hangupCause: clip(p.HangupCause ?? p.DialHangupCause, 64),
    };
  }
  return {
    ...common,
    recording: stage === 'recording' ? twilioRecording(p) : undefined,
    callId: clip(stage === 'dial-event' ? (p.ParentCallSid ?? p.CallSid) : p.CallSid, 64) ?? 'unknown',
    legStatus: clip(stage === 'dial-event' ? p.CallStatus : p.DialCallStatus, 32),
    legCallId: clip(stage === 'dial-event' ? p.CallSid : p.DialCallSid, 64),
    durationSeconds: int(p.CallDuration ?? p.DialCallDuration),
    billedDurationSeconds: int(p.CallDuration ?? p.DialCallDuration),
    hangupCause: clip(p.CallStatus === 'completed' ? 'NORMAL_CLEARING' : undefined, 64),
  };
}

type Recording = NonNullable<RpcRequestOf<typeof RouteCall>['recording']>;

/** Plivo's `<Record>` calls its action as recording starts (`ev=start`) and its callbackUrl when the file is ready. */
function plivoRecording(p: Record<string, string>, query: Record<string, string>): Recording {
  return {
    status: query.ev === 'start' ? 'initiated' : p.RecordUrl ? 'completed' : 'failed',
    id: clip(p.RecordingID, 64),
    url: clip(p.RecordUrl, 2048),
    durationSeconds: int(p.RecordingDuration),
  };
}

/** Twilio's recordingStatusCallback: RecordingStatus in-progress, completed, absent or failed. */
function twilioRecording(p: Record<string, string>): Recording {
  const status = p.RecordingStatus;
  return {
    status: status === 'in-progress' ? 'initiated' : status === 'completed' ? 'completed' : 'failed',
    id: clip(p.RecordingSid, 64),
    url: clip(p.RecordingUrl, 2048),
    durationSeconds: int(p.RecordingDuration),
  };
}
