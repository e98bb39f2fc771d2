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
          // While a NATS node is lost the stream's leader moves, and for a moment nobody stores
          // (503, no responders): nothing was stored, so it is sent again, within the budget.
          const deadline = Date.now() + timeoutMs;
          for (let delay = 50; ; delay *= 2) {
            try {
              const ack = await this.js.publish(contract.subject, data, {
                msgID: options.msgId,
                headers,
                timeout: Math.max(100, deadline - Date.now()),
              });
              return { seq: ack.seq, duplicate: ack.duplicate };
            } catch (err) {
              if ((err as { code?: string }).code !== '503' || Date.now() + delay >= deadline) throw err;
              await new Promise((resolve) => setTimeout(resolve, delay));
            }
          }
        } catch (err) {
          throw new CodedError(ErrorCodes.RPC_UNAVAILABLE, 'event stream is not available', {
            retryable: true,
            cause: err,
          });
        }
      },
      {},
      { ...this.options.breaker, timeoutMs: BREAKER_CALL_CEILING_MS },
    );
  }
}
