import { Injectable } from '@nestjs/common';
import { CallProgressed } from '@maskline/contracts';
import { DurableConsumer, type EventOf } from '@maskline/messaging';
import { CallEventRepository } from './call-event.repository';

const EVENTS = [CallProgressed] as const;

@Injectable()
export class CallProgressConsumer {
  constructor(private readonly events: CallEventRepository) {}

  /** Stores each call step; acknowledged only once stored. */
  // Up to 64 steps in hand at once: those stored together share one insert (CallEventRepository).
  @DurableConsumer({ durable: 'session-service-call-progress', events: EVENTS, concurrency: 64 })
  async onCallProgressed({ payload }: EventOf<typeof EVENTS>): Promise<void> {
    await this.events.record({
      _id: `${payload.callId}:${payload.step}`,
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
    });
  }
}
