import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  type ConsumerInfo,
  type ConsumerMessages,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import type { Logger } from 'pino';
import {
  CodedError,
  ErrorCodes,
  EVENT_EXTENSION_HEADER,
  codedErrorFromZod,
  consumerSchemaOf,
  eventFromWire,
  type EventContract,
} from '@maskline/contracts';
import { LOGGER, MetricsService, runWithContext } from '@maskline/observability';
import {
  DURABLE_CONSUMER_METADATA,
  type DurableConsumerOptions,
  type EventMeta,
} from './durable-consumer.decorator';
import { HandlerDiscovery } from './handler-discovery';
import { HandlerHeartbeat } from './handler-heartbeat';
import { InFlightTracker } from './in-flight-tracker';
import { retryWhileJetStreamUnavailable } from './jetstream-retry';
import { decodeJson } from './json-codec';
import { MESSAGING_OPTIONS, NATS_CONNECTION, type MessagingOptions } from './messaging.options';
import { incomingCorrelationId } from './nats-headers';
import { newConsumerStart } from './consumer-start';
import { EventRetention } from './event-retention';
import { RetryLater, backoffWithJitter } from './retry-later.error';
import { RPC_ERROR_FILTER, type RpcErrorFilter } from './rpc-error-filter';

const DEFAULTS = { ackWaitMs: 30_000, concurrency: 16, retryBaseMs: 500, retryMaxMs: 60_000 };
/**
 * Without a `maxDeliver` of its own, the delivery at which a consumer's event is given up when its
 * handler failed otherwise than for want of what it stands on (a bug, an answer it cannot use, a
 * call that took too long).
 */
export const OWN_FAULT_LAST_DELIVERY = 20;
/**
 * Without a `maxDeliver` of its own, how long a consumer's event is tried again while what its
 * handler stands on cannot be reached (its store, a service, JetStream): an outage of hours. Counted
 * in tries at the longest backoff (jittered to between half of it and all of it), so 3 to 6 hours.
 */
export const UNREACHABLE_RETRY_MS = 6 * 3600_000;
/**
 * After a failure read as unreachable, how long this process also reads a store or a service that
 * did not answer in time as unreachable: a store coming back answers slowly, or cuts commands short,
 * under the backlog, and an event kept through the outage must not be given up then.
 */
const RECOVERY_MS = 5 * 60_000;
/**
 * The longest an event this replica holds (waiting for a slot, or handled) is kept from redelivery
 * past its consumer's ack wait (`HandlerHeartbeat`), unless the consumer sets its own
 * (`handlerKeptMs`): longer than a handler's few store commands and calls take at their deadlines.
 * Past it the handler is taken as stuck and its event is delivered again, to another replica (this
 * one leaves the copy to the handler still running, which keeps its slot).
 */
export const HANDLER_KEPT_MS = 5 * 60_000;
/**
 * From which delivery a failing event has its consumer's server count checked: a replica of an
 * earlier release that starts during a rollout sets it back to OWN_FAULT_LAST_DELIVERY, and the
 * server would then end an event retried through an outage at its next delivery past that, unsaid.
 * At most once in LIMIT_CHECK_EVERY_MS per consumer (an outage's events share it, and its old events
 * past the 20th are covered by the younger ones' checks), and at an event's 10th and 15th delivery
 * whatever the time (before it could reach the 20th).
 */
const LIMIT_CHECK_FROM = OWN_FAULT_LAST_DELIVERY / 2;
const LIMIT_CHECKS_AT: ReadonlySet<number> = new Set([LIMIT_CHECK_FROM, OWN_FAULT_LAST_DELIVERY - 5]);
const LIMIT_CHECK_EVERY_MS = 30_000;
/**
 * Failed deliveries logged at warn (retries a handler asked for, at info): the first WARN_FIRST, then
 * one in WARN_EVERY (the rest at debug).
 */
const WARN_FIRST = 3;
const WARN_EVERY = 20;

type Settings = typeof DEFAULTS & Pick<DurableConsumerOptions, 'maxDeliver'>;

/**
 * The server's count of deliveries for a consumer (`max_deliver`): its own, or enough for
 * UNREACHABLE_RETRY_MS of tries at its longest backoff after the first OWN_FAULT_LAST_DELIVERY. The
 * host gives an event up at that delivery itself, said; the server's count ends only deliveries the
 * host never settled (a handler stuck past `handlerKeptMs`, a process gone).
 */
export function deliveryLimitOf(settings: Pick<Settings, 'maxDeliver' | 'retryMaxMs'>): number {
  return (
    settings.maxDeliver ?? OWN_FAULT_LAST_DELIVERY + Math.ceil(UNREACHABLE_RETRY_MS / settings.retryMaxMs)
  );
}

type Outcome = 'ack' | 'retry' | 'terminal';

/** An event this replica holds: the most deliveries the server has made of it, copies left to it included. */
interface HeldEvent {
  deliveries: number;
}
/**
 * Why an event was ended unhandled: after its tries, because the stream would forget it first, or
 * because what its handler sent NATS would not carry (a bug). The codes `maskline_events_given_up_total` counts.
 */
const GIVEN_UP_CODES: readonly string[] = [
  ErrorCodes.EVENT_GIVEN_UP,
  ErrorCodes.EVENT_FORGOTTEN,
  ErrorCodes.NATS_REFUSED,
];

interface RunningConsumer {
  name: string;
  stream: string;
  messages: ConsumerMessages;
  loop: Promise<void>;
  heartbeat: HandlerHeartbeat<JsMsg>;
  /** Its handlers' slots (`concurrency`), closed at shutdown. */
  slots: Semaphore;
  /** The server's count this release sets (`deliveryLimitOf`). */
  deliveryLimit: number;
  /** Its server count's check under way, if one is (`keepDeliveryLimit`): one at a time. */
  limitCheck?: Promise<void>;
  /** When its server count was last checked. */
  limitCheckedAt?: number;
}

/**
 * Runs every `@DurableConsumer` method as a JetStream durable pull consumer. Each message ends in
 * exactly one of ack, retry (nak with a delay) or a coded terminal failure (term), never silence.
 */
@Injectable()
export class DurableConsumerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly running: RunningConsumer[] = [];
  private readonly inFlight = new InFlightTracker();
  private readonly outcomes;
  private readonly givenUp;
  private readonly copiesLeft;
  /** The consumers' figures of the scrape under way: read once for both gauges. */
  private figures?: { at: number; read: Promise<ReadonlyMap<string, ConsumerInfo>> };
  /** When a handler of this process last failed for want of what it stands on (`unreachable`). */
  private lastUnreachableAt = Number.NEGATIVE_INFINITY;
  private stopping = false;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly discovery: HandlerDiscovery,
    metrics: MetricsService,
    private readonly retention: EventRetention,
    @Inject(RPC_ERROR_FILTER) private readonly errors: RpcErrorFilter,
  ) {
    this.outcomes = metrics.counter('maskline_events_consumed_total', 'Durable events handled, by outcome', [
      'consumer',
      'outcome',
    ]);
    this.givenUp = metrics.counter(
      'maskline_events_given_up_total',
      'Events a durable consumer ended unhandled after its tries (EVENT.MAX_DELIVER), because the full stream would forget them first (EVENT.OUTLIVES_STREAM), or because what the handler sent NATS would not carry (INTERNAL.NATS_REFUSED)',
      ['consumer', 'code'],
    );
    this.copiesLeft = metrics.counter(
      'maskline_events_copies_left_total',
      'Copies of an event the server delivered again while this replica still held it (waiting in the client for a slot): left to the one held, each a delivery counted',
      ['consumer'],
    );
    metrics.gauge(
      'maskline_consumer_pending_messages',
      'Events stored and not yet delivered to this durable consumer (its lag), as NATS counts them',
      ['consumer'],
      (gauge) => this.measure(gauge, (info) => info.num_pending),
    );
    metrics.gauge(
      'maskline_consumer_unsettled_messages',
      'Events delivered to this durable consumer and not yet acknowledged, as NATS counts them: being handled, or waiting out a retry’s delay (a failing callback endpoint’s, a provider account held back)',
      ['consumer'],
      (gauge) => this.measure(gauge, (info) => info.num_ack_pending),
    );
  }

  /** At each scrape: a figure of each consumer, as the server has it (shared by all replicas). */
  private async measure(
    gauge: { set(labels: { consumer: string }, value: number): void },
    figure: (info: ConsumerInfo) => number,
  ): Promise<void> {
    for (const [consumer, info] of await this.consumerFigures()) gauge.set({ consumer }, figure(info));
  }

  /** Each running consumer's info, read once for the gauges of one scrape (within a second). */
  private consumerFigures(): Promise<ReadonlyMap<string, ConsumerInfo>> {
    const now = Date.now();
    if (this.figures && now - this.figures.at < 1000) return this.figures.read;
    const read = (async () => {
      const out = new Map<string, ConsumerInfo>();
      if (this.running.length === 0 || this.nc.isClosed()) return out;
      const jsm = await this.nc.jetstreamManager().catch((err: unknown) => {
        // The scrape goes on without the consumers' figures; the failure is reported.
        this.logger.warn({ err }, 'could not read consumer lag');
        return undefined;
      });
      if (!jsm) return out;
      await Promise.all(
        this.running.map(async (c) => {
          try {
            out.set(c.name, await jsm.consumers.info(c.stream, c.name));
          } catch (err) {
            // The scrape goes on without this consumer's figures; the failure is reported.
            this.logger.warn({ err, consumer: c.name }, 'could not read consumer lag');
          }
        }),
      );
      return out;
    })();
    this.figures = { at: now, read };
    return read;
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const handler of this.discovery.find<DurableConsumerOptions>(DURABLE_CONSUMER_METADATA)) {
      await this.start(handler.metadata, handler.invoke);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const c of this.running) {
      c.messages.stop();
      c.slots.close();
    }
    // A loop waits for a slot while handlers run: bounded by the grace, as they are.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(this.running.map((c) => c.loop)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.shutdownGraceMs))),
    ]);
    clearTimeout(timer);
    const left = await this.inFlight.settle(this.options.shutdownGraceMs);
    for (const c of this.running) c.heartbeat.stop();
    if (left > 0) this.logger.warn({ left }, 'shutdown grace elapsed with events still being handled');
  }

  private async start(
    opts: DurableConsumerOptions,
    invoke: (...args: unknown[]) => Promise<unknown>,
  ): Promise<void> {
    const settings: Settings = { ...DEFAULTS, ...opts };
    // Each series there from the start: a rate over a series that appears with its first count misses it.
    for (const outcome of ['ack', 'retry', 'terminal'] as const)
      this.outcomes.inc({ consumer: opts.durable, outcome }, 0);
    for (const code of GIVEN_UP_CODES) this.givenUp.inc({ consumer: opts.durable, code }, 0);
    const streams = new Set(opts.events.map((e) => e.stream));
    if (streams.size !== 1) throw new Error(`consumer ${opts.durable}: events must share one stream`);
    const stream = [...streams][0];
    const filter = filterOf(opts);
    const bySubject = new Map<string, EventContract>(opts.events.map((e) => [e.subject, e]));

    const jsm = await this.nc.jetstreamManager();
    const config = {
      durable_name: opts.durable,
      ack_policy: AckPolicy.Explicit,
      ...filter,
      max_deliver: deliveryLimitOf(settings),
      ack_wait: nanos(settings.ackWaitMs),
      max_ack_pending:
        opts.maxAckPending === 'unlimited'
          ? -1
          : (opts.maxAckPending ?? Math.max(1000, settings.concurrency * 4)),
    };
    const consumer = await retryWhileJetStreamUnavailable(
      `consumer ${opts.durable}`,
      this.logger,
      async () => {
        try {
          await jsm.consumers.info(stream, opts.durable);
          await jsm.consumers.update(stream, opts.durable, {
            // One made with another filter (an earlier release's wildcard) takes this one's from now on.
            ...filter,
            max_deliver: config.max_deliver,
            ack_wait: config.ack_wait,
            max_ack_pending: config.max_ack_pending,
          });
        } catch (err) {
          if (!/consumer not found/i.test((err as Error).message)) throw err;
          // Made anew: from the last hour at most, never before what its once-records remember.
          const start = await newConsumerStart(jsm, opts.oncePer ?? []);
          await jsm.consumers
            .add(stream, {
              ...config,
              deliver_policy: DeliverPolicy.StartTime,
              opt_start_time: start.toISOString(),
            })
            .catch((addErr: unknown) => {
              // Another replica made it first (from a start a moment apart): that one is used.
              if (!/consumer already exists|consumer name already in use/i.test((addErr as Error).message))
                throw addErr;
            });
          this.logger.info({ consumer: opts.durable, from: start }, 'durable consumer made, reading from');
        }
        return this.nc.jetstream().consumers.get(stream, opts.durable);
      },
    );
    const messages = await consumer.consume({ max_messages: settings.concurrency });
    const slots = new Semaphore(settings.concurrency);
    const heartbeat = new HandlerHeartbeat<JsMsg>(settings.ackWaitMs, opts.handlerKeptMs ?? HANDLER_KEPT_MS, {
      letGo: (msg, ranMs) =>
        this.logger.error(
          { consumer: opts.durable, subject: msg.subject, seq: msg.seq, ranMs: Math.round(ranMs) },
          'event still waiting or handled past its longest: the server will deliver it again',
        ),
    });
    /** The events this replica holds, waiting for a slot or handled, by stream sequence. */
    const holding = new Map<number, HeldEvent>();
    const loop = (async () => {
      for await (const msg of messages) {
        const held = holding.get(msg.seq);
        if (held) {
          // A copy the server sent again while the event waited in this client's buffer (the heartbeat
          // covers it only once it is taken from there): the copy held settles it, as the server
          // keeps one pending entry per event. Handled again, it would run twice at once. It was a
          // delivery all the same: the held one's count is the server's from now on.
          held.deliveries = Math.max(held.deliveries, msg.info.redeliveryCount);
          this.copiesLeft.inc({ consumer: opts.durable });
          this.logger.debug(
            { consumer: opts.durable, seq: msg.seq, delivery: held.deliveries },
            'copy of an event held here: left to it',
          );
          continue;
        }
        if (this.stopping) {
          // Not held here and still in the client's buffer at shutdown: another replica takes it now,
          // not after its ack wait.
          msg.nak();
          continue;
        }
        const event: HeldEvent = { deliveries: msg.info.redeliveryCount };
        holding.set(msg.seq, event);
        heartbeat.started(msg);
        // No slot at shutdown (they may be held by handlers that never end): left to another replica.
        if (!(await slots.acquire())) {
          holding.delete(msg.seq);
          heartbeat.ended(msg);
          msg.nak();
          continue;
        }
        void this.inFlight.track(
          this.handle(opts.durable, msg, event, bySubject, invoke, settings).finally(() => {
            holding.delete(msg.seq);
            heartbeat.ended(msg);
            slots.release();
          }),
        );
      }
    })().catch((err: unknown) => {
      if (!this.stopping) this.logger.error({ err, consumer: opts.durable }, 'consumer loop stopped');
    });
    this.running.push({
      name: opts.durable,
      stream,
      messages,
      loop,
      heartbeat,
      slots,
      deliveryLimit: config.max_deliver,
    });
    this.logger.info({ consumer: opts.durable, stream, ...filter }, 'durable consumer started');
  }

  private async handle(
    consumer: string,
    msg: JsMsg,
    held: HeldEvent,
    bySubject: Map<string, EventContract>,
    invoke: (...args: unknown[]) => Promise<unknown>,
    settings: Settings,
  ): Promise<void> {
    const correlationId = incomingCorrelationId(msg.headers);
    await runWithContext({ correlationId }, async () => {
      const meta: EventMeta = {
        subject: msg.subject,
        streamSequence: msg.seq,
        // The server's count as this replica knows it now: a copy left to this delivery counts.
        get deliveryCount() {
          return held.deliveries;
        },
        msgId: msg.headers?.get('Nats-Msg-Id') || undefined,
        publishedAt: new Date(Math.floor(msg.info.timestampNanos / 1e6)),
        storedAtMicros: Math.floor(msg.info.timestampNanos / 1e3),
      };
      let outcome: Outcome;
      try {
        const contract = bySubject.get(msg.subject);
        if (!contract) {
          throw new CodedError(ErrorCodes.EVENT_INVALID, `no contract for subject ${msg.subject}`);
        }
        const parsed = consumerSchemaOf(contract).safeParse(
          eventFromWire(decodeJson(msg.data), msg.headers?.get(EVENT_EXTENSION_HEADER) || undefined),
        );
        if (!parsed.success) {
          const coded = codedErrorFromZod(parsed.error, 'event');
          throw new CodedError(ErrorCodes.EVENT_INVALID, coded.message, { field: coded.field });
        }
        await invoke({ subject: msg.subject, payload: parsed.data }, meta);
        // A plain ack, not a confirmed one: every handler is idempotent, so an ack lost on the way
        // costs a redelivery after ack_wait, while confirming each ack cost a NATS round trip per
        // event per consumer. Pending acks are flushed when the connection drains at shutdown.
        msg.ack();
        outcome = 'ack';
        this.logger.debug({ consumer, subject: msg.subject, seq: msg.seq }, 'event handled');
      } catch (err) {
        outcome = this.settleFailure(consumer, msg, meta, err, settings);
      }
      this.outcomes.inc({ consumer, outcome });
    });
  }

  private settleFailure(
    consumer: string,
    msg: JsMsg,
    meta: EventMeta,
    err: unknown,
    settings: Settings,
  ): Outcome {
    const where = { consumer, subject: meta.subject, seq: meta.streamSequence, delivery: meta.deliveryCount };
    if (err instanceof CodedError && !err.retryable) {
      msg.term();
      if (GIVEN_UP_CODES.includes(err.code)) this.givenUp.inc({ consumer, code: err.code });
      this.logger.error(
        { ...where, code: err.code, field: err.field, reason: err.message },
        'event terminated',
      );
      return 'terminal';
    }
    if (this.lastDelivery(meta.deliveryCount, err, settings)) {
      msg.term();
      this.givenUp.inc({ consumer, code: ErrorCodes.EVENT_GIVEN_UP });
      this.logger.error(
        { ...where, code: ErrorCodes.EVENT_GIVEN_UP, err },
        'event given up after the last delivery',
      );
      return 'terminal';
    }
    // Whole milliseconds: the server reads a fractional delay as none and redelivers at once.
    const delay = Math.max(
      1,
      Math.round(
        err instanceof RetryLater
          ? err.delayMs
          : backoffWithJitter(meta.deliveryCount, settings.retryBaseMs, settings.retryMaxMs),
      ),
    );
    if (!this.retention.keeps(meta.publishedAt, delay, 'now')) {
      // The stream, full of newer events, would forget it before then at the rate it fills now, and
      // a forgotten retry never comes: given up now, said, instead of lost unseen. (Consumers whose retries last hours end
      // such an event with an outcome of their own first: a dead letter, a failure announced.)
      msg.term();
      this.givenUp.inc({ consumer, code: ErrorCodes.EVENT_FORGOTTEN });
      this.logger.error(
        { ...where, code: ErrorCodes.EVENT_FORGOTTEN, err, delayMs: delay },
        'event given up: the event stream would forget it before its retry',
      );
      return 'terminal';
    }
    msg.nak(delay);
    if (settings.maxDeliver === undefined && meta.deliveryCount >= LIMIT_CHECK_FROM) {
      this.keepDeliveryLimit(consumer, LIMIT_CHECKS_AT.has(meta.deliveryCount));
    }
    const thinned = meta.deliveryCount > WARN_FIRST && meta.deliveryCount % WARN_EVERY !== 0;
    if (err instanceof RetryLater) {
      // A backlog waiting out a provider that stays down puts each of its events off about once a
      // minute: the first few and one in WARN_EVERY said, the rest at debug.
      const line = { ...where, reason: err.reason, delayMs: delay };
      if (thinned) this.logger.debug(line, 'event retry scheduled');
      else this.logger.info(line, 'event retry scheduled');
    } else if (settings.maxDeliver !== undefined || !thinned) {
      this.logger.warn({ ...where, err, delayMs: delay }, 'event handler failed: retry scheduled');
    } else {
      // An outage of hours retries each event about once a minute: the rest of its tries at debug.
      this.logger.debug({ ...where, err, delayMs: delay }, 'event handler failed: retry scheduled');
    }
    return 'retry';
  }

  /**
   * Raises the consumer's server count back to this release's (never lowers it) when a replica of an
   * earlier release set it lower; one check at a time per consumer (see LIMIT_CHECK_FROM). A failure
   * to check is said, and a later failing delivery tries again.
   */
  private keepDeliveryLimit(consumer: string, whateverTheTime: boolean): void {
    const c = this.running.find((r) => r.name === consumer);
    if (!c || c.limitCheck) return;
    const now = performance.now();
    if (!whateverTheTime && c.limitCheckedAt !== undefined && now - c.limitCheckedAt < LIMIT_CHECK_EVERY_MS)
      return;
    c.limitCheckedAt = now;
    c.limitCheck = this.checkDeliveryLimit(c).finally(() => (c.limitCheck = undefined));
  }

  private async checkDeliveryLimit(c: RunningConsumer): Promise<void> {
    const consumer = c.name;
    try {
      const jsm = await this.nc.jetstreamManager();
      const has = (await jsm.consumers.info(c.stream, c.name)).config.max_deliver;
      if (has === undefined || has === -1 || has >= c.deliveryLimit) return;
      await jsm.consumers.update(c.stream, c.name, { max_deliver: c.deliveryLimit });
      this.logger.warn(
        { consumer, from: has, to: c.deliveryLimit },
        'delivery limit raised back: a replica of an earlier release had set it lower',
      );
    } catch (err) {
      this.logger.warn({ err, consumer }, 'could not check the consumer’s delivery limit');
    }
  }

  private lastDelivery(delivery: number, err: unknown, settings: Settings): boolean {
    if (delivery >= deliveryLimitOf(settings)) return true;
    return settings.maxDeliver === undefined && delivery >= OWN_FAULT_LAST_DELIVERY && !this.unreachable(err);
  }

  /**
   * Whether the handler failed for want of what it stands on, unreachable (its store, JetStream, a
   * service it asked), as this service's error filter reads the error (`RpcErrorFilter.unreachable`):
   * tried again while that lasts, up to UNREACHABLE_RETRY_MS. For RECOVERY_MS after such a failure,
   * a dependency that did not answer in time (a store command past its deadline, one cut short) is
   * read the same way. A filter that throws reads it as not.
   */
  private unreachable(err: unknown): boolean {
    if (err instanceof RetryLater) return false;
    try {
      if (this.errors.unreachable(err)) {
        this.lastUnreachableAt = performance.now();
        return true;
      }
      return (
        performance.now() - this.lastUnreachableAt < RECOVERY_MS &&
        this.errors.toWire(err).code === ErrorCodes.DEPENDENCY_UNAVAILABLE
      );
    } catch {
      return false;
    }
  }
}

class Semaphore {
  private waiting: Array<(got: boolean) => void> = [];
  private closed = false;
  constructor(private free: number) {}

  /** A slot (true), or false once closed: a waiter is not left waiting for slots that never free. */
  async acquire(): Promise<boolean> {
    if (this.closed) return false;
    if (this.free > 0) {
      this.free--;
      return true;
    }
    return new Promise<boolean>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next(true);
    else this.free++;
  }

  /** Shutdown: every waiter, and every later acquire, gets no slot. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter(false);
  }
}

/**
 * The consumer's subject filter: its wildcard, else its one event's subject, else its events'
 * subjects (NATS 2.10 `filter_subjects`). Exactly one of the two fields is set, the other
 * undefined, so that an update replaces whichever an earlier filter used.
 */
function filterOf(opts: Pick<DurableConsumerOptions, 'filterSubject' | 'events'>): {
  filter_subject: string | undefined;
  filter_subjects: string[] | undefined;
} {
  const subjects = [...new Set(opts.events.map((e) => e.subject))];
  if (opts.filterSubject) return { filter_subject: opts.filterSubject, filter_subjects: undefined };
  if (subjects.length === 1) return { filter_subject: subjects[0], filter_subjects: undefined };
  return { filter_subject: undefined, filter_subjects: subjects };
}
