import { Inject, Injectable } from '@nestjs/common';
import type { JetStreamClient, NatsConnection } from 'nats';
import {
  CodedError,
  EVENT_EXTENSION_HEADER,
  ErrorCodes,
  codedErrorFromZod,
  eventToWire,
  type EventContract,
  type EventPayloadInputOf,
} from '@maskline/contracts';
import { BreakerRegistry } from '@maskline/resilience';
import { encodeJson } from './json-codec';
import { MESSAGING_OPTIONS, NATS_CONNECTION, type MessagingOptions } from './messaging.options';
import { outgoingHeaders } from './nats-headers';
import { BREAKER_CALL_CEILING_MS } from './breaker-ceiling';
import { isNatsRefusal, retryWhileNoResponders } from './jetstream-retry';

export interface PublishOptions {
  /**
   * Deduplication id (`Nats-Msg-Id`): publishing the same id twice inside the stream's duplicate
   * window stores the event once. Derive it from what the event is about, never from a clock.
   */
  msgId: string;
  timeoutMs?: number;
}

export interface PublishResult {
  seq: number;
  duplicate: boolean;
}

/** Publishes durable events to JetStream; the server acknowledges each one before this resolves. */
@Injectable()
export class EventPublisher {
  private readonly js: JetStreamClient;

  constructor(
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
    private readonly breakers: BreakerRegistry,
  ) {
    this.js = nc.jetstream();
  }

  async publish<C extends EventContract>(
    contract: C,
    payload: EventPayloadInputOf<C>,
    options: PublishOptions,
  ): Promise<PublishResult> {
    const checked = contract.payload.safeParse(payload);
    if (!checked.success) throw codedErrorFromZod(checked.error, 'event');
    const timeoutMs = options.timeoutMs ?? this.options.rpcTimeoutMs;
    return this.breakers.fire(
      'jetstream',
      async () => {
        try {
          const { body, extension } = eventToWire(contract, checked.data as Record<string, unknown>);
          const headers = outgoingHeaders(this.options.service);
          if (extension) headers.set(EVENT_EXTENSION_HEADER, extension);
          const data = encodeJson(body);
          // The stream's leader may be moving (a NATS node lost): asked again while nobody stores.
          const deadline = Date.now() + timeoutMs;
          const ack = await retryWhileNoResponders(
            () =>
              this.js.publish(contract.subject, data, {
                msgID: options.msgId,
                headers,
                timeout: Math.max(100, deadline - Date.now()),
              }),
            timeoutMs,
          );
          return { seq: ack.seq, duplicate: ack.duplicate };
        } catch (err) {
          // Too large to carry, or refused by the stream: the same event would be refused again.
          if (isNatsRefusal(err)) {
            throw new CodedError(ErrorCodes.NATS_REFUSED, 'the event stream refused the event', {
              cause: err,
            });
          }
          throw new CodedError(ErrorCodes.RPC_UNAVAILABLE, 'event stream is not available', {
            retryable: true,
            cause: err,
          });
        }
      },
      // A refused event says nothing of the stream's health: it opens no breaker every event goes through.
      { isClientError: (err) => err instanceof CodedError && err.code === ErrorCodes.NATS_REFUSED },
      { ...this.options.breaker, timeoutMs: BREAKER_CALL_CEILING_MS },
    );
  }
}
