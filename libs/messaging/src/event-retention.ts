import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { STREAMS } from '@maskline/contracts';
import { LOGGER, MetricsService } from '@maskline/observability';
import { NATS_CONNECTION } from './messaging.options';

/** What the event stream holds, as its info says. */
export interface StreamHolding {
  messages: number;
  bytes: number;
  /** Its bound (its share of NATS storage); -1 or 0: none. */
  maxBytes: number;
  maxAgeMs: number;
  /** When its oldest event was published (ms). */
  firstAt: number;
  /** Its oldest event's sequence: every event before it is forgotten. */
  firstSeq: number;
}

/**
 * How full the stream must be before its rate so far says when it will be: a stream just made (a
 * few events in a second) would otherwise be judged to remember seconds.
 */
const PROJECTED_FROM_FILL = 0.5;

/** The stream's age limit; with none (an operator's 0), it keeps events until its bound. */
function ageLimitMs(s: StreamHolding): number {
  return s.maxAgeMs > 0 ? s.maxAgeMs : Infinity;
}

/**
 * How far back the stream will remember at the rate it has filled so far: once at least half full,
 * the age its bound is reached at (the span it holds now, scaled up to its bound), at most its age
 * limit; less full, its age limit. Full, that is the age of its oldest event; a flood shortens it.
 */
export function rememberedSpanMs(s: StreamHolding, now: number): number {
  const ageLimit = ageLimitMs(s);
  if (s.messages === 0 || s.maxBytes <= 0 || s.bytes < s.maxBytes * PROJECTED_FROM_FILL) return ageLimit;
  const held = Math.max(0, now - s.firstAt);
  return Math.min(ageLimit, (held * s.maxBytes) / s.bytes);
}

/**
 * The span a retry's fate is decided on: what the stream remembers, rounded down to a power of two
 * seconds (a retry the stream would forget is never scheduled). Its fate is seen by the tenant whose
 * event it is (a callback dead-lettered or retried, a held-back text failed or waiting), and the span
 * follows every tenant's traffic together: to the second, a tenant choosing its own retries' delays
 * (its endpoint's `Retry-After`) could read how fast all of them fill the stream; to a factor of two, it
 * learns only that the stream is filling, and roughly how fast.
 */
export function decidedSpanMs(s: StreamHolding, now: number): number {
  const span = rememberedSpanMs(s, now);
  // Its age limit (configuration, not traffic), unbounded, or under a second: as it is.
  if (!Number.isFinite(span) || span === ageLimitMs(s) || span < 1000) return span;
  const grid = 1000 * 2 ** Math.floor(Math.log2(span / 1000));
  // Never above the span, whatever log2's rounding.
  return grid > span ? grid / 2 : grid;
}

/**
 * How much of what the stream remembers a retry may count on:
 * - `long`, for retries that wait hours (a callback's schedule, a text held back for its provider
 *   account) and may then be ended with an outcome of their own (a dead letter, a failure announced):
 *   half, as traffic may grow (a flood start) between the decision and the retry;
 * - `now`, for any other retry (seconds to a minute), which the consumer host can only give up: all
 *   of it, so that only an event the stream would forget at the rate it fills now is given up.
 * What the stream forgets, a consumer never sees again, with no error: the retry simply does not come.
 */
export const RETRY_TRUSTED_FRACTION = { long: 0.5, now: 1 } as const;
export type RetryTrust = keyof typeof RETRY_TRUSTED_FRACTION;

/**
 * Whether an event published at `publishedAt`, retried `delayMs` from `now`, is still in the stream
 * then. A `long` retry's fate is its tenant's to see: decided on `decidedSpanMs`. A `now` retry the
 * consumer host gives up (EVENT.OUTLIVES_STREAM, no outcome anyone is told) on what the stream
 * remembers, exactly: rounded down, it would drop events the stream still holds.
 */
export function keepsEvent(
  s: StreamHolding | undefined,
  publishedAt: number,
  delayMs: number,
  now: number,
  trust: RetryTrust = 'long',
): boolean {
  if (!s) return true;
  const span = trust === 'long' ? decidedSpanMs(s, now) : rememberedSpanMs(s, now);
  return now + delayMs - publishedAt <= span * RETRY_TRUSTED_FRACTION[trust];
}

/** How often a replica reads the stream's holding (one request; the figure moves slowly). */
const READ_EVERY_MS = 30_000;
/** How long a read waits (a scrape of the gauge waits for it). */
const READ_TIMEOUT_MS = 1000;
/** A figure older than this (NATS not answering) is not trusted: retries are kept, as without a bound. */
const STALE_AFTER_MS = 5 * 60_000;

/**
 * Whether the event stream will still hold an event when its retry comes. Bounded by its share of
 * NATS storage, the stream forgets its oldest events first, and a message waiting out a retry delay
 * that the stream forgets is never delivered again: a consumer whose retries can last hours (a
 * callback's schedule, a text held back for its provider account) asks this before it schedules
 * one, and ends the event with a coded outcome (a dead letter, a failure announced) instead.
 */
@Injectable()
export class EventRetention {
  private holding: StreamHolding | undefined;
  /** When `holding` was read (a figure older than STALE_AFTER_MS is not trusted). */
  private heldAt = -Infinity;
  /** When a read was last begun, answered or not. */
  private askedAt = -Infinity;
  private reading: Promise<void> | undefined;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    metrics.gauge(
      'maskline_event_stream_window_seconds',
      'How far back the event stream will remember at the rate it fills (its age limit when not filling; +Inf without one; NaN unknown): hours-long retries due past half of it (rounded down to a power of two seconds) are ended, not scheduled',
      [],
      async (gauge) => {
        await this.readIfDue();
        const holding = this.current(Date.now());
        gauge.set(holding ? rememberedSpanMs(holding, Date.now()) / 1000 : NaN);
      },
    );
  }

  /** Whether an event published at `publishedAt` may wait `delayMs` more for its retry. */
  keeps(publishedAt: Date, delayMs: number, trust: RetryTrust = 'long'): boolean {
    const now = Date.now();
    void this.readIfDue();
    return keepsEvent(this.current(now), publishedAt.getTime(), delayMs, now, trust);
  }

  /**
   * The sequence of the oldest event the stream still holds, as last read (at most READ_EVERY_MS
   * old), or undefined when unknown: an event before it is forgotten, and its retries never come.
   */
  firstSequence(): number | undefined {
    void this.readIfDue();
    return this.current(Date.now())?.firstSeq;
  }

  /** The stream's holding, unless unread or too old to trust (NATS not answering): then unknown. */
  private current(now: number): StreamHolding | undefined {
    return now - this.heldAt <= STALE_AFTER_MS ? this.holding : undefined;
  }

  private readIfDue(): Promise<void> {
    return Date.now() - this.askedAt >= READ_EVERY_MS ? this.read() : Promise.resolve();
  }

  /** Reads the stream's holding (one read at a time); unread, the last figure stands. */
  read(): Promise<void> {
    if (!this.reading) {
      this.askedAt = Date.now();
      this.reading = this.readOnce().finally(() => {
        this.reading = undefined;
      });
    }
    return this.reading;
  }

  private async readOnce(): Promise<void> {
    if (this.nc.isClosed()) return;
    try {
      const jsm = await this.nc.jetstreamManager({ checkAPI: false, timeout: READ_TIMEOUT_MS });
      const info = await jsm.streams.info(STREAMS.MASKLINE_EVENTS.name);
      this.holding = {
        messages: info.state.messages,
        bytes: info.state.bytes,
        maxBytes: info.config.max_bytes,
        maxAgeMs: info.config.max_age / 1e6,
        firstAt: Date.parse(info.state.first_ts),
        firstSeq: info.state.first_seq,
      };
      this.heldAt = Date.now();
    } catch (err) {
      this.logger.warn({ err }, 'could not read what the event stream holds');
    }
  }
}
