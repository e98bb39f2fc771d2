import { SetMetadata } from '@nestjs/common';
import type { EventContract, EventPayloadOf } from '@maskline/contracts';

export const DURABLE_CONSUMER_METADATA = Symbol('maskline:durable-consumer');

export interface DurableConsumerOptions<E extends readonly EventContract[] = readonly EventContract[]> {
  /** Durable name: the server remembers this consumer's position across restarts. */
  durable: string;
  /** The events this consumer takes. They must share one stream. */
  events: E;
  /**
   * A wildcard subject filter on the stream, for a consumer that takes a whole family of subjects
   * (every session event, say). By default the consumer is filtered to `events`' own subjects
   * (NATS 2.10 `filter_subjects`), so the server never delivers it an event it only passes over.
   */
  filterSubject?: string;
  /**
   * Deliveries after which the event is given up whatever failed (EVENT_GIVEN_UP; the handler is
   * told the attempt number), for a consumer whose work is pointless late (a call to place). By
   * default an event whose handler fails because what it stands on cannot be reached (its store,
   * NATS, a service it asks: `RpcErrorFilter.unreachable`) is tried again, its backoff capped at
   * `retryMaxMs`, for UNREACHABLE_RETRY_MS (unless the stream would forget it first:
   * EVENT_FORGOTTEN), and one that fails otherwise (a bug, its own store command past its deadline)
   * is given up at its 20th delivery (`OWN_FAULT_LAST_DELIVERY`), so that such events never hold
   * the consumer's places for fresh ones for long.
   */
  maxDeliver?: number;
  /**
   * How long the server waits for an ack before redelivering: after a process gone, or past
   * `handlerKeptMs` (until then the host tells the server that an event it holds, waiting for a
   * slot or handled, is at work, so a slow handler's event is not delivered twice at once).
   */
  ackWaitMs?: number;
  /**
   * How long an event may wait for a slot and be handled before it is delivered again
   * (`HANDLER_KEPT_MS`, 5 minutes, by default): for a handler whose work grows with what one event
   * covers (every session on a number).
   */
  handlerKeptMs?: number;
  /** Messages handled at once by this replica. */
  concurrency?: number;
  /**
   * Delivered-but-unacknowledged messages the server allows before it stops delivering: a message
   * waiting out a `RetryLater` delay counts. Consumers that park retries for long (callbacks, for
   * hours) set 'unlimited', so that many parked retries never stall fresh events.
   */
  maxAckPending?: number | 'unlimited';
  /**
   * The KV buckets whose entries make this consumer's handling happen once (a claim, a ledger). Made
   * anew, the consumer starts at most an hour back (`NEW_CONSUMER_LOOKBACK_MS`), and never before
   * the oldest entry these still hold: an event handled before then may have lost its record.
   */
  oncePer?: readonly string[];
  /** Backoff for errors that are not `RetryLater`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export interface EventMeta {
  subject: string;
  streamSequence: number;
  /** 1 on first delivery. */
  deliveryCount: number;
  msgId?: string;
  /** Time the event was stored on the stream. */
  publishedAt: Date;
  /**
   * The same instant in microseconds since the epoch, on the wall clock of the NATS server that
   * stored it: in the stream's order unless that clock stepped back (or a leader on another server
   * was behind), and shared by events stored in the same microsecond. Unlike the sequence, it says
   * nothing of how many events (every tenant's) were stored in between.
   */
  storedAtMicros: number;
}

export type EventOf<E extends readonly EventContract[]> = {
  [K in keyof E]: E[K] extends EventContract
    ? { subject: E[K]['subject']; payload: EventPayloadOf<E[K]> }
    : never;
}[number];

type ConsumerMethod<E extends readonly EventContract[]> = (
  event: EventOf<E>,
  meta: EventMeta,
) => Promise<void> | void;

/**
 * Consumes events durably from JetStream. The method's outcome decides the message's fate:
 * returns → ack; throws `RetryLater` → redelivered after its delay; throws a non-retryable
 * `CodedError` → terminated (logged with its code); throws anything else → redelivered with
 * backoff, until `maxDeliver` (see there).
 */
export function DurableConsumer<const E extends readonly EventContract[]>(
  options: DurableConsumerOptions<E>,
) {
  return <M extends ConsumerMethod<E>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): TypedPropertyDescriptor<M> => {
    SetMetadata(DURABLE_CONSUMER_METADATA, options)(target, key, descriptor);
    return descriptor;
  };
}
