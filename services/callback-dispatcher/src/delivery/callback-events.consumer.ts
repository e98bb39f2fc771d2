import { Injectable } from '@nestjs/common';
import {
  AccountCredentialsChanged,
  CallProgressed,
  CallbackReplayRequested,
  FirstPartyCallFailed,
  MessageFailed,
  MessageRelayed,
  PinAuthenticationStatus,
  SelfTestProbeRecorded,
  SessionCreated,
  SessionExpired,
  SessionUpdated,
  VirtualNumberChanged,
  callbackEventIdOf,
  interactionEndedBy,
  type InteractionEvent,
} from '@maskline/contracts';
import { DurableConsumer, type EventMeta, type EventOf } from '@maskline/messaging';
import { toPlivoCallback } from '../events/plivo-callback';
import { PROXY_INTERACTION_EVENT, toTwilioCallback } from '../events/twilio-callback';
import { DeadLetters } from '../records/dead-letters.repository';
import { CALLBACK_MAX_DELIVERIES, CallbackDeliverer, type DeliveryJob } from './callback-deliverer';
import { CallbackTargets } from './callback-targets';
import { DELIVERY_STATE_BUCKET } from './delivery-ledger';

/**
 * The events a callback may come of (the consumer's filter is their subjects: an inbound message,
 * with its sealed text, is never delivered here); those without a callback are acknowledged at once.
 */
const EVENTS = [
  SessionCreated,
  SessionUpdated,
  SessionExpired,
  PinAuthenticationStatus,
  CallProgressed,
  FirstPartyCallFailed,
  MessageRelayed,
  MessageFailed,
  SelfTestProbeRecorded,
  CallbackReplayRequested,
  VirtualNumberChanged,
  AccountCredentialsChanged,
] as const;

@Injectable()
export class CallbackEventsConsumer {
  constructor(
    private readonly deliverer: CallbackDeliverer,
    private readonly deadLetters: DeadLetters,
    private readonly targets: CallbackTargets,
  ) {}

  /**
   * Acknowledged only once the callback is delivered or dead-lettered; otherwise redelivered after
   * the retry delay (RetryLater), or, if this replica dies, after the ack wait.
   */
  @DurableConsumer({
    durable: 'callback-dispatcher-deliveries',
    events: EVENTS,
    oncePer: [DELIVERY_STATE_BUCKET],
    maxDeliver: CALLBACK_MAX_DELIVERIES,
    // Above the longest attempt (CALLBACK_TIMEOUT_MS, 10 s by default) with room to record it.
    ackWaitMs: 30_000,
    concurrency: 64,
    // Retries wait out their delay as unacknowledged messages (up to 12 h): with a cap, one
    // tenant's failing endpoint could park enough of them to stop every tenant's callbacks.
    maxAckPending: 'unlimited',
  })
  async onEvent(event: EventOf<typeof EVENTS>, meta: EventMeta): Promise<void> {
    if (event.subject === CallbackReplayRequested.subject) {
      const { accountId, eventId, replayId } = event.payload;
      const letter = await this.deadLetters.one({ accountId }, eventId);
      if (!letter) {
        await this.deliverer.nothingToDeliver({
          eventId,
          attemptKey: replayAttemptKey(eventId, replayId),
          publishedAt: meta.publishedAt,
          streamSequence: meta.streamSequence,
        });
        return;
      }
      await this.deliverer.deliver({
        eventId,
        callback: {
          accountId,
          sessionId: letter.sessionId,
          target: letter.target,
          eventName: letter.eventName,
          params: letter.params,
          ...(letter.sealedRecordingUrl ? { sealedRecordingUrl: letter.sealedRecordingUrl } : {}),
        },
        sequence: letter.sequence,
        publishedAt: meta.publishedAt,
        streamSequence: meta.streamSequence,
        attemptKey: replayAttemptKey(eventId, replayId),
        firstDelivery: meta.deliveryCount === 1,
        lastDelivery: meta.deliveryCount >= CALLBACK_MAX_DELIVERIES,
        subaccountId: letter.subaccountId,
        // A Proxy Service's callback is replayed as it was recorded.
        ...(letter.eventName === PROXY_INTERACTION_EVENT
          ? { twilio: { eventName: PROXY_INTERACTION_EVENT, params: stripServiceSids(letter.params) } }
          : {}),
      });
      return;
    }
    const callback = toPlivoCallback(event);
    if (!callback) return;
    if ('routing' in event.payload && event.payload.routing) {
      // A call step's view (a router's) only fills a target not known; a session event's is the session's.
      this.targets.learn(event.payload.routing, callback, {
        fillOnly: event.subject === CallProgressed.subject,
      });
    }
    const eventId = callbackEventIdOf(meta);
    await this.deliverer.deliver({
      eventId,
      callback,
      sequence: meta.storedAtMicros,
      publishedAt: meta.publishedAt,
      streamSequence: meta.streamSequence,
      attemptKey: eventId,
      firstDelivery: meta.deliveryCount === 1,
      lastDelivery: meta.deliveryCount >= CALLBACK_MAX_DELIVERIES,
      twilio: toTwilioCallback(event),
      endOf: endOf(event, meta),
    });
  }
}

/** The interaction the event ends, if any: its callback waits until that end is stored (`StoredInteractionGate`). */
function endOf(event: InteractionEvent, meta: EventMeta): DeliveryJob['endOf'] {
  const end = interactionEndedBy(event);
  return end && { ...end, deliveryCount: meta.deliveryCount };
}

/** Where a replay's attempts are counted: apart from the event's own (each replay starts anew). */
function replayAttemptKey(eventId: string, replayId: string): string {
  return `${eventId}.r.${replayId}`;
}

/** A recorded Proxy callback's own parameters (the Service's SIDs are added again at delivery). */
function stripServiceSids(params: Record<string, string>): Record<string, string> {
  const { interactionServiceSid: _s, interactionAccountSid: _a, ...own } = params;
  return own;
}
