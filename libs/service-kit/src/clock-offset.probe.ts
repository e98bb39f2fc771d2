import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CLOCK_SKEW_MS } from '@maskline/contracts';
import { KeyValueStores, MESSAGING_OPTIONS, kvEncode, type MessagingOptions } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { CLOCK, type Clock } from './clock';
import { PeriodicTask } from './periodic-task';

/** Each replica's probe entry: the server stamps when it stored it. Kept a few intervals. */
export const CLOCK_PROBE_BUCKET = 'maskline-clock-probes';
const PROBE_INTERVAL_MS = 60_000;
/** Opened at the first probe, a minute after start: nothing is added to a replica's boot. */
const PROBE_BUCKET_OPTIONS = { ttlMs: 5 * PROBE_INTERVAL_MS };
/**
 * A clock this far from the NATS server's is said to be off (a warning, and the alert's threshold):
 * a twelfth of CLOCK_SKEW_MS, the most the history's day partitions and tallies allow between
 * replicas, so an operator hears of a drifting clock long before it could misplace a record.
 */
export const CLOCK_OFFSET_WARN_MS = CLOCK_SKEW_MS / 12;

/**
 * How far this replica's clock is from the NATS server's, measured every minute: it writes its own
 * KV entry and reads it back; the entry's time is the server's when it stored it, between the two,
 * so the offset is known to within half the round trip. Exported as `maskline_clock_offset_seconds`
 * (this clock minus the server's); past CLOCK_OFFSET_WARN_MS, logged as a warning.
 */
@Injectable()
export class ClockOffsetProbe extends PeriodicTask {
  private readonly key: string;
  private readonly offset;

  constructor(
    private readonly kv: KeyValueStores,
    @Inject(MESSAGING_OPTIONS) options: MessagingOptions,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) logger: Logger,
    metrics: MetricsService,
  ) {
    super('clock offset probe', PROBE_INTERVAL_MS, logger);
    this.key = `c.${options.service}.${randomBytes(6).toString('hex')}`;
    this.offset = metrics.gauge(
      'maskline_clock_offset_seconds',
      'Clock of this replica minus that of the NATS server, measured each minute (to within half a KV round trip)',
    );
  }

  /** Measures the offset now (ms, this clock minus the server's), and exports it. */
  async measure(): Promise<number> {
    const kv = await this.kv.bucket(CLOCK_PROBE_BUCKET, PROBE_BUCKET_OPTIONS);
    const sent = this.clock();
    await kv.put(this.key, kvEncode(sent));
    const entry = await kv.get(this.key);
    const back = this.clock();
    if (!entry) throw new Error('the clock probe entry was not read back');
    const offsetMs = (sent + back) / 2 - entry.created.getTime();
    this.offset.set(offsetMs / 1000);
    if (Math.abs(offsetMs) > CLOCK_OFFSET_WARN_MS) {
      this.logger.warn(
        { offsetMs: Math.round(offsetMs), roundTripMs: back - sent, limitMs: CLOCK_SKEW_MS },
        "this replica's clock is off the NATS server's; records are timed by it (sync it: NTP)",
      );
    }
    return offsetMs;
  }

  protected async runOnce(): Promise<void> {
    await this.measure();
  }
}
