import {
  ConsumerEvents,
  DeliverPolicy,
  type ConsumerMessages,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
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
import { isNoMessageFound } from './key-value-stores';

export interface SubjectTailOptions {
  stream: string;
  filterSubjects: string | string[];
  /** Called once per event, in stream order; the next waits for it. */
  onEvent: (subject: string, payload: unknown) => Promise<void> | void;
  /**
   * A failed onEvent (the event is not retried: there is no ack), or the tail itself broken
   * (`subject` is undefined): it is restarted where it stopped, or, when the stream no longer holds
   * that, from now, and then reported again (events in between are missed: a view reloading its
   * snapshot after that second report has them). Either way the view should distrust what it holds.
   */
  onError: (err: unknown, subject: string | undefined) => void;
}

export interface EventTail {
  stop(): void;
  /**
   * Whether this tail has handled every message on its subjects that the stream held when asked (its
   * leader's word): resolves true once it has, false when it has not within `timeoutMs` or the
   * stream could not be asked. A view fed by the tail then knows everything written before the call
   * (it may also hold what came after). A view that distrusts itself after an `onError` still must.
   */
  caughtUp(timeoutMs: number): Promise<boolean>;
}

/**
 * Every message on the matching subjects from now on, in order, to this replica alone: an ordered,
 * ephemeral JetStream consumer (it restarts itself from where it was after a gap or a reconnect;
 * nothing is acknowledged or kept). The mechanism under `tailEvents`.
 */
export async function tailSubjects(nc: NatsConnection, options: SubjectTailOptions): Promise<EventTail> {
  let stopped = false;
  let messages: ConsumerMessages | undefined;
  let manager: Promise<JetStreamManager> | undefined;
  const jsm = () => {
    if (!manager) {
      const opening = nc.jetstreamManager({ checkAPI: false });
      manager = opening;
      opening.catch(() => (manager = undefined));
    }
    return manager;
  };
  const filters = [options.filterSubjects].flat();
  /** The stream sequence of the last message handled (or, at the start, of the last before the tail). */
  let handled = 0;
  /** When the stream `handled` counts in was made. */
  let streamCreated: string | undefined;
  /** Between a break and the reopen: `handled` may belong to a stream since made again. */
  let broken = false;
  const waiting = new Set<{ seq: number; done: (caught: boolean) => void }>();
  const advance = (seq: number) => {
    handled = Math.max(handled, seq);
    for (const w of waiting) if (w.seq <= handled) w.done(true);
  };
  /**
   * A consumer from the message after the last one handled when the stream still holds it
   * (`resume`: a tail lost with a NATS node, say, goes on without a gap), else after the stream's
   * last message: what came before is the view's snapshot's, and `caughtUp` counts it as handled.
   */
  const open = async (resume: boolean): Promise<{ current: ConsumerMessages; gapless: boolean }> => {
    const info = await (await jsm()).streams.info(options.stream);
    const { first_seq: first, last_seq: last } = info.state;
    // The same stream (one made again numbers its messages afresh), still holding the next message.
    const gapless = resume && info.created === streamCreated && handled + 1 >= first && handled <= last;
    const consumer = await nc.jetstream().consumers.get(options.stream, {
      filterSubjects: options.filterSubjects,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: gapless ? handled + 1 : last + 1,
    });
    const current = await consumer.consume();
    // From the stream's end: the last before it (lower than before if the stream was made again).
    if (!gapless) {
      handled = last;
      // Asked before a gap (or of a stream since made again): not caught up, whatever the numbers say.
      for (const w of waiting) w.done(false);
    }
    streamCreated = info.created;
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
    return { current, gapless };
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
      advance(m.seq);
    }
  };
  /** The sequence of the last message on the tail's subjects the stream's leader holds (0: none). */
  const lastOnSubjects = async (): Promise<number> => {
    const manager = await jsm();
    const lasts = await Promise.all(
      filters.map((subject) =>
        manager.streams.getMessage(options.stream, { last_by_subj: subject }).then(
          (m) => m.seq,
          (err: unknown) => {
            if (isNoMessageFound(err)) return 0;
            throw err;
          },
        ),
      ),
    );
    return Math.max(0, ...lasts);
  };
  /**
   * `lastOnSubjects` asked after this call: concurrent callers share one question, and one asked
   * while another is out waits for the next (the one out may have been sent before the call), so a
   * replica sends at most one at a time however many calls wait.
   */
  let asking: Promise<number> | undefined;
  let askingNext: Promise<number> | undefined;
  const lastNow = (): Promise<number> => {
    if (!asking) {
      asking = lastOnSubjects().finally(() => (asking = undefined));
      return asking;
    }
    askingNext ??= asking
      .catch(() => undefined)
      .then(() => {
        askingNext = undefined;
        return lastNow();
      });
    return askingNext;
  };
  /**
   * Runs the tail; if it ends or breaks while wanted, reports it and starts a new one: where it
   * stopped if the stream still holds that, else from now (and reports that too).
   */
  const keep = (current: ConsumerMessages): void => {
    void run(current)
      .then(() => (stopped ? undefined : new Error('event tail ended')))
      .catch((err: unknown) => err)
      .then(async (failure) => {
        while (failure && !stopped) {
          broken = true;
          options.onError(failure, undefined);
          await new Promise((r) => setTimeout(r, 1000));
          if (stopped) return;
          try {
            const { current: next, gapless } = await open(true);
            if (stopped) {
              next.stop();
              return;
            }
            broken = false;
            keep(next);
            // Started after events the view has not seen (the stream lost them, or was made again):
            // told again now, so that what it reloads is read after the new tail's start.
            if (!gapless) options.onError(new Error('event tail restarted from the stream’s end'), undefined);
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
  keep((await open(false)).current);
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      messages?.stop();
      for (const w of waiting) w.done(false);
    },
    caughtUp: async (timeoutMs) => {
      if (stopped || broken) return false;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<number>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
      });
      try {
        const seq = await Promise.race([lastNow(), deadline]);
        if (broken) return false;
        if (seq <= handled) return true;
        return await new Promise<boolean>((resolve) => {
          const w = {
            seq,
            done: (caught: boolean) => {
              waiting.delete(w);
              resolve(caught);
            },
          };
          waiting.add(w);
          void deadline.catch(() => w.done(false));
        });
      } catch {
        return false; // not known in time: the caller reads its source instead
      } finally {
        clearTimeout(timer);
      }
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
