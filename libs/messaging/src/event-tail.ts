import { ConsumerEvents, DeliverPolicy, type ConsumerMessages, type NatsConnection } from 'nats';
import {
  CodedError,
  ErrorCodes,
  EVENT_EXTENSION_HEADER,
  codedErrorFromZod,
  consumerSchemaOf,
  eventFromWire,
  type EventContract,
} from '@maskline/contracts';
import type { EventOf } from './durable-consumer.decorator';

/** Consumer states a tail does not come back from by itself. */
const LOST = new Set<ConsumerEvents>([
  ConsumerEvents.StreamNotFound,
  ConsumerEvents.ConsumerNotFound,
  ConsumerEvents.ConsumerDeleted,
]);
import { decodeJson } from './json-codec';

export interface SubjectTailOptions {
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
 * Every message on the matching subjects from now on, in order, to this replica alone: an ordered,
 * ephemeral JetStream consumer (it restarts itself from where it was after a gap or a reconnect;
 * nothing is acknowledged or kept). The mechanism under `tailEvents`.
 */
export async function tailSubjects(nc: NatsConnection, options: SubjectTailOptions): Promise<EventTail> {
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
    })().catch((err: unknown) => {
      // Without its status the tail cannot tell it is lost: restart it (reported by `keep`).
      options.onError(err, undefined);
      current.stop();
    });
    return current;
  };
  const run = async (current: ConsumerMessages): Promise<void> => {
    for await (const m of current) {
      try {
        await options.onEvent(
          m.subject,
          eventFromWire(decodeJson(m.data), m.headers?.get(EVENT_EXTENSION_HEADER) || undefined),
        );
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
      // onError itself threw: nobody is left to tell but the process.
      .catch((err: unknown) =>
        process.emitWarning(err instanceof Error ? err : String(err), 'EventTailError'),
      );
  };
  keep(await open());
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      messages?.stop();
    },
  };
}

export interface EventTailOptions<E extends readonly EventContract[]> {
  /** The events to follow; they share one stream. */
  events: E;
  /** NATS 2.9 takes one filter subject per consumer: a wildcard when there are several events. */
  filterSubject?: string;
  /** Called once per event, typed and validated, in stream order; the next waits for it. */
  onEvent: (event: EventOf<E>) => Promise<void> | void;
  /** See `SubjectTailOptions.onError`; an event that fails its contract is reported here too. */
  onError: (err: unknown, subject: string | undefined) => void;
}

/**
 * Every event of these contracts from now on, in order, to this replica alone, typed and
 * validated (tolerantly: fields added by a newer publisher are ignored). For per-replica views
 * such as indexes and caches, where every replica must see every event; work that must happen
 * once belongs in a durable consumer. Other subjects under the filter are not this tail's.
 */
export function tailEvents<const E extends readonly EventContract[]>(
  nc: NatsConnection,
  options: EventTailOptions<E>,
): Promise<EventTail> {
  const streams = new Set(options.events.map((e) => e.stream));
  if (streams.size !== 1) throw new Error('a tail follows events of one stream');
  const filter =
    options.filterSubject ?? (options.events.length === 1 ? options.events[0].subject : undefined);
  if (!filter) throw new Error('a tail of several events needs a filterSubject');
  const bySubject = new Map(options.events.map((e) => [e.subject, consumerSchemaOf(e)]));
  return tailSubjects(nc, {
    stream: [...streams][0],
    filterSubjects: filter,
    onEvent: (subject, payload) => {
      const schema = bySubject.get(subject);
      if (!schema) return undefined;
      const parsed = schema.safeParse(payload);
      if (!parsed.success) {
        const coded = codedErrorFromZod(parsed.error, 'event');
        throw new CodedError(ErrorCodes.EVENT_INVALID, coded.message, { field: coded.field });
      }
      return options.onEvent({ subject, payload: parsed.data } as EventOf<E>);
    },
    onError: options.onError,
  });
}
