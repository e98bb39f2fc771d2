import { Injectable } from '@nestjs/common';
import { MessageFailed, MessageRelayed, interactionEndedBy } from '@maskline/contracts';
import { DurableConsumer, StoredInteractions, type EventOf } from '@maskline/messaging';
import { CallEventRepository } from './call-event.repository';
import { ProxyInteractionClock } from '../proxy-sessions/proxy-interaction-clock';

/** Outcomes only: the server never delivers this consumer an inbound message (its filter is these subjects). */
const EVENTS = [MessageRelayed, MessageFailed] as const;

/** Stores each message's outcome as an interaction of its session; acknowledged only once stored. */
@Injectable()
export class MessageOutcomeConsumer {
  constructor(
    private readonly events: CallEventRepository,
    private readonly clock: ProxyInteractionClock,
    private readonly stored: StoredInteractions,
  ) {}

  // Outcomes stored together share one insert (CallEventRepository), as call steps do.
  @DurableConsumer({
    durable: 'session-service-message-outcomes',
    events: EVENTS,
    concurrency: 64,
  })
  async onOutcome(event: EventOf<typeof EVENTS>): Promise<void> {
    const p = event.payload;
    const relayed = event.subject === MessageRelayed.subject;
    const step = relayed ? 'message-relayed' : 'message-failed';
    await this.events.record({
      // One outcome per message of this session: a redelivery is the same document, and an id
      // another tenant's webhook carried lands in that tenant's session, never in this one.
      _id: `message:${p.sessionId}:${p.messageId}`,
      accountId: p.accountId,
      sessionId: p.sessionId,
      callId: p.messageId,
      step,
      at: new Date(p.at),
      firstPartyCallUuid: null,
      secondPartyCallUuid: null,
      status: relayed ? 'relayed' : 'failed',
      durationSeconds: 0,
      billedDurationSeconds: 0,
      recordingUrl: null,
      direction: p.direction,
      segments: p.segments,
      relayedMessageId: 'relayedMessageId' in p ? p.relayedMessageId : null,
      failureReason: 'reason' in p ? p.reason : null,
      ...(p.viaApi ? { viaApi: true } : {}),
    });
    // Stored: a callback about the message's outcome may now be sent (the dispatcher waits for this).
    const end = interactionEndedBy(event);
    if (end) await this.stored.mark(end);
    await (
      await this.clock.interacted(p.accountId, p.sessionId, new Date(p.at))
    ).slid;
  }
}
