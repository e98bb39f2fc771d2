import { Injectable } from '@nestjs/common';
import { CallProgressed, interactionEndedBy } from '@maskline/contracts';
import { DurableConsumer, StoredInteractions, type EventOf } from '@maskline/messaging';
import { CallEventRepository } from './call-event.repository';
import { ProxyInteractionClock } from '../proxy-sessions/proxy-interaction-clock';

const EVENTS = [CallProgressed] as const;

/**
 * The steps that count as an interaction for a Proxy session's sliding TTL: a call's start (the
 * caller's leg answered, whichever party called) and its end. Every step's `from` is the caller.
 */
const INTERACTION_STEPS = new Set(['first-party-answered', 'second-party-answered', 'parties-hangup']);

@Injectable()
export class CallProgressConsumer {
  constructor(
    private readonly events: CallEventRepository,
    private readonly clock: ProxyInteractionClock,
    private readonly stored: StoredInteractions,
  ) {}

  /** Stores each call step; acknowledged only once stored. */
  // Up to 64 steps in hand at once: those stored together share one insert (CallEventRepository).
  @DurableConsumer({ durable: 'session-service-call-progress', events: EVENTS, concurrency: 64 })
  async onCallProgressed(event: EventOf<typeof EVENTS>): Promise<void> {
    const { payload } = event;
    // A Proxy session's interaction moves its expiry; its answer step also says who called. The
    // step is stored whatever becomes of the move (tried again on redelivery, the step kept once).
    const interaction = INTERACTION_STEPS.has(payload.step)
      ? await this.clock.interacted(payload.accountId, payload.sessionId, new Date(payload.at), payload.from)
      : null;
    const callerRole = interaction?.role ?? null;
    await this.events.record({
      // One step per call of this session: a redelivery is the same document, and a call id
      // another tenant's webhook carried lands in that tenant's session, never in this one.
      _id: `call:${payload.sessionId}:${payload.callId}:${payload.step}`,
      accountId: payload.accountId,
      sessionId: payload.sessionId,
      callId: payload.callId,
      step: payload.step,
      at: new Date(payload.at),
      firstPartyCallUuid: payload.firstPartyCallUuid,
      secondPartyCallUuid: payload.secondPartyCallUuid,
      status: payload.status,
      durationSeconds: payload.durationSeconds,
      billedDurationSeconds: payload.billedDurationSeconds,
      recordingUrl: payload.recordingUrl,
      ...(payload.sealedRecordingUrl ? { sealedRecordingUrl: payload.sealedRecordingUrl } : {}),
      ...(callerRole ? { callerRole } : {}),
    });
    // Stored: a callback about the call's end may now be sent (the dispatcher waits for this).
    const end = interactionEndedBy(event);
    if (end) await this.stored.mark(end);
    await interaction?.slid;
  }
}
