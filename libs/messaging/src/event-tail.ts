import { DeliverPolicy, type ConsumerMessages, type NatsConnection } from 'nats';
import { decodeJson } from './json-codec';

export interface EventTailOptions {
  stream: string;
  filterSubjects: string | string[];
  /** Called once per event, in stream order; the next waits for it. */
  onEvent: (subject: string, payload: unknown) => Promise<void> | void;
  /** A failed onEvent: the event is not retried (there is no ack); the view should heal itself. */
  onError: (err: unknown, subject: string) => void;
}

export interface EventTail {
  stop(): void;
}

/**
 * Every event on the matching subjects from now on, in order, to this replica alone: an ordered,
 * ephemeral JetStream consumer (it restarts itself from where it was after a gap or a reconnect;
 * nothing is acknowledged or kept). For per-replica views such as indexes and caches, where every
 * replica must see every event; work that must happen once belongs in a durable consumer.
 */
export async function tailEvents(nc: NatsConnection, options: EventTailOptions): Promise<EventTail> {
  const consumer = await nc.jetstream().consumers.get(options.stream, {
    filterSubjects: options.filterSubjects,
    deliver_policy: DeliverPolicy.New,
  });
  const messages: ConsumerMessages = await consumer.consume();
  void (async () => {
    for await (const m of messages) {
      try {
        await options.onEvent(m.subject, decodeJson(m.data));
      } catch (err) {
        options.onError(err, m.subject);
      }
    }
  })();
  return { stop: () => messages.stop() };
}
