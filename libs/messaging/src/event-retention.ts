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
}

/**
 * How full the stream must be before its rate so far says when it will be: a stream just made (a
 * few events in a second) would otherwise be judged to remember seconds.
 */
const PROJECTED_FROM_FILL = 0.5;

/**
 * How far back the stream will remember at the rate it has filled so far: once at least half full,
 * the age its bound is reached at (the span it holds now, scaled up to its bound), at most its age
 * limit; less full, its age limit. Full, that is the age of its oldest event; a flood shortens it.
 */
export function rememberedSpanMs(s: StreamHolding, now: number): number {
  // No age limit (an operator's 0): kept until its bound.
  const ageLimit = s.maxAgeMs > 0 ? s.maxAgeMs : Infinity;
  if (s.messages === 0 || s.maxBytes <= 0 || s.bytes < s.maxBytes * PROJECTED_FROM_FILL) return ageLimit;
  const held = Math.max(0, now - s.firstAt);
  return Math.min(ageLimit, (held * s.maxBytes) / s.bytes);
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

/** Whether an event published at `publishedAt`, retried `delayMs` from `now`, is still in the stream then. */
export function keepsEvent(
  s: StreamHolding | undefined,
  publishedAt: number,
  delayMs: number,
  now: number,
  fraction: number = RETRY_TRUSTED_FRACTION.long,
): boolean {
  if (!s) return true;
  return now + delayMs - publishedAt <= rememberedSpanMs(s, now) * fraction;
}

/** How often a replica reads the stream's holding (one request; the figure moves slowly). */
const READ_EVERY_MS = 30_000;
/** How long a read waits (a scrape of the gauge waits for it). */
const READ_TIMEOUT_MS = 1000;

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
  private readAt = -Infinity;
  private reading: Promise<void> | undefined;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    metrics.gauge(
      'maskline_event_stream_window_seconds',
      'How far back the event stream will remember at the rate it fills (its age limit when not filling): a retry due later than half of it is ended, not scheduled',
      [],
      async (gauge) => {
        await this.read();
        // A stream without an age limit, filling slowly: no finite figure to give.
        const span = this.holding ? rememberedSpanMs(this.holding, Date.now()) : Infinity;
        if (Number.isFinite(span)) gauge.set(span / 1000);
      },
    );
  }

  /** Whether an event published at `publishedAt` may wait `delayMs` more for its retry. */
  keeps(publishedAt: Date, delayMs: number, trust: keyof typeof RETRY_TRUSTED_FRACTION = 'long'): boolean {
    const now = Date.now();
    if (now - this.readAt >= READ_EVERY_MS) void this.read();
    return keepsEvent(this.holding, publishedAt.getTime(), delayMs, now, RETRY_TRUSTED_FRACTION[trust]);
  }

  /** Reads the stream's holding (one read at a time); unread, the last figure stands. */
  read(): Promise<void> {
    this.reading ??= (async () => {
      try {
        if (this.nc.isClosed()) return;
        // Asked again only after READ_EVERY_MS, read or not (a failing NATS is not asked at every call).
        this.readAt = Date.now();
        const jsm = await this.nc.jetstreamManager({ checkAPI: false, timeout: READ_TIMEOUT_MS });
        const info = await jsm.streams.info(STREAMS.MASKLINE_EVENTS.name);
        this.holding = {
          messages: info.state.messages,
          bytes: info.state.bytes,
          maxBytes: info.config.max_bytes,
          maxAgeMs: info.config.max_age / 1e6,
          firstAt: Date.parse(info.state.first_ts),
        };
      } catch (err) {
        this.logger.warn({ err }, 'could not read what the event stream holds');
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }
}
