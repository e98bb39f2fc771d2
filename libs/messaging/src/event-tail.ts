import { ConsumerEvents, DeliverPolicy, type ConsumerMessages, type NatsConnection } from 'nats';

/** Consumer states a tail does not come back from by itself. */
const LOST = new Set<ConsumerEvents>([
  ConsumerEvents.StreamNotFound,
  ConsumerEvents.ConsumerNotFound,
  ConsumerEvents.ConsumerDeleted,
]);
import { decodeJson } from './json-codec';

export interface EventTailOptions {
  stream: string;
  filterSubjects: string | string[];
  /** Called once per event, in stream order; the next waits for it. */
  onEvent: (subject: string, payload: unknown) => Promise<void> | void;
  /**
   * A failed onEvent (the event is not retried: there is no ack), or the tail itself broken and
   * restarted from now (`subject` is undefined: events in between are missed). Either way the view
   * should distrust what it holds.
   */
  onError: (err: unknown, subject: string | undefined) => void;
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
  let stopped = false;
  let messages: ConsumerMessages | undefined;
  const open = async () => {
    const consumer = await nc.jetstream().consumers.get(options.stream, {
      filterSubjects: options.filterSubjects,
      deliver_policy: DeliverPolicy.New,
    });
    const current = await consumer.consume();
    messages = current;
    // The client keeps retrying a consumer whose stream is gone, silently and, once the stream is
    // back, without success: end it, so that it is reported and opened again (`keep`).
    void (async () => {
      for await (const s of await current.status()) {
        if (LOST.has(s.type as ConsumerEvents)) current.stop();
      }
    })().catch(() => undefined);
    return current;
  };
  const run = async (current: ConsumerMessages): Promise<void> => {
    for await (const m of current) {
      try {
        await options.onEvent(m.subject, decodeJson(m.data));
      } catch (err) {
        options.onError(err, m.subject);
      }
    }
  };
  /** Runs the tail; if it ends or breaks while wanted, reports it and starts a new one from now. */
  const keep = (current: ConsumerMessages): void => {
    void run(current)
      .then(() => (stopped ? undefined : new Error('event tail ended')))
      .catch((err: unknown) => err)
      .then(async (failure) => {
        while (failure && !stopped) {
          options.onError(failure, undefined);
          await new Promise((r) => setTimeout(r, 1000));
          if (stopped) return;
          try {
            keep(await open());
            return;
          } catch (err) {
            failure = err;
          }
        }
      })
      .catch(() => undefined); // onError threw: nothing left to tell
  };
  keep(await open());
  return {
    stop: () => {
      stopped = true;
      messages?.stop();
    },
  };
}
