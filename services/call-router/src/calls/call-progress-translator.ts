import { Inject, Injectable } from '@nestjs/common';
import {
  RecordingUrlSeal,
  type CallAction,
  type RouteCall,
  type RpcParsedRequestOf,
} from '@maskline/contracts';
import { CALL_ROUTER_CONFIG, type CallRouterConfig } from '../config/call-router.config';
import { CallEvents } from './call-events';
import { CallState, type ConnectedCall } from './call-state';

type Request = RpcParsedRequestOf<typeof RouteCall>;

/** The call a step is about, as `CallEvents` names it. */
const about = (call: ConnectedCall, callId: string) => ({
  accountId: call.accountId,
  sessionId: call.sessionId,
  virtualNumber: call.virtualNumber,
  callId,
  from: call.caller,
  to: call.callee,
});

/**
 * The provider's reports on a call that went through a session (the dialled leg ringing and
 * answering, the dial ending, the caller hanging up, the recording), turned into
 * `events.call.progressed.v1` steps: session-service builds interactions from them, the dispatcher
 * Plivo's callbacks. A report about a call this number did not connect changes nothing.
 */
@Injectable()
export class CallProgressTranslator {
  private readonly recordingUrls: RecordingUrlSeal;

  constructor(
    private readonly events: CallEvents,
    private readonly state: CallState,
    @Inject(CALL_ROUTER_CONFIG) config: Pick<CallRouterConfig, 'RECORDING_URL_KEYS'>,
  ) {
    this.recordingUrls = new RecordingUrlSeal(config.RECORDING_URL_KEYS);
  }

  /** What the provider is told to do after the report (only a finished dial needs an answer). */
  async translate(r: Request): Promise<CallAction[]> {
    switch (r.stage) {
      case 'dial-event':
        await this.dialEvent(r);
        return [];
      case 'dial-ended':
        await this.dialEnded(r);
        return [{ type: 'hangup' }];
      case 'hangup':
        await this.hangup(r);
        return [];
      case 'recording':
        await this.recording(r);
        return [];
      default:
        return [];
    }
  }

  private async dialEvent(r: Request): Promise<void> {
    const call = await this.connectedCall(r);
    if (!call) return;
    const who = about(call, r.callId);
    const leg =
      call.calleeRole === 'first'
        ? { firstPartyCallUuid: r.legCallId ?? null }
        : { secondPartyCallUuid: r.legCallId ?? null };
    const status = (r.legStatus ?? '').toLowerCase();
    if (status === 'ringing' || status === 'initiated') {
      await this.events.step(`${call.calleeRole}-party-ringing`, who, { ...leg, status: 'ringing' });
    } else if (status === 'answered' || status === 'in-progress' || status === 'answer') {
      await this.events.step(`${call.calleeRole}-party-answered`, who, { ...leg, status: 'answered' });
    }
  }

  private async dialEnded(r: Request): Promise<void> {
    const call = await this.connectedCall(r);
    if (!call) return;
    const who = about(call, r.callId);
    const status = (r.legStatus ?? 'completed').toLowerCase();
    const leg =
      call.calleeRole === 'first'
        ? { firstPartyCallUuid: r.legCallId ?? null }
        : { secondPartyCallUuid: r.legCallId ?? null };
    await this.events.step(`${call.calleeRole}-party-hangup`, who, {
      ...leg,
      status,
      durationSeconds: r.durationSeconds ?? 0,
      billedDurationSeconds: r.billedDurationSeconds ?? 0,
    });
  }

  private async hangup(r: Request): Promise<void> {
    const call = await this.connectedCall(r);
    if (!call) return;
    const who = about(call, r.callId);
    await this.events.step(`${call.callerRole}-party-hangup`, who, {
      status: 'completed',
      durationSeconds: r.durationSeconds ?? 0,
      billedDurationSeconds: r.billedDurationSeconds ?? 0,
      hangupCause: r.hangupCause ?? null,
    });
    await this.events.step('parties-hangup', who, {
      durationSeconds: r.durationSeconds ?? 0,
      billedDurationSeconds: r.billedDurationSeconds ?? 0,
      hangupCause: r.hangupCause ?? null,
    });
  }

  /** Plivo's recording callbacks: SessionRecordingInitiated / Completed / Failed. */
  private async recording(r: Request): Promise<void> {
    const call = await this.connectedCall(r);
    if (!call || !r.recording) return;
    const who = about(call, r.callId);
    const url = r.recording.url;
    await this.events.step(`recording-${r.recording.status}`, who, {
      recordingId: r.recording.id ?? null,
      // Sealed: the event stays in the stream for days, and its step is stored for 30.
      ...(url ? { sealedRecordingUrl: this.recordingUrls.seal(url, who) } : {}),
      recordingDurationSeconds: r.recording.durationSeconds ?? 0,
      recordingFormat: call.recordFormat ?? null,
    });
  }

  /** The call this webhook reports on, when it went through a session of this number and account. */
  private async connectedCall(r: Request): Promise<ConnectedCall | null> {
    const call = await this.state.connected(r.virtualNumber, r.callId);
    return call && call.accountId === r.accountId ? call : null;
  }
}
