import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { KeyValueStores, kvToken } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { CLOCK, type Clock } from '@maskline/service-kit';

/** One entry per sender and recipient of a text Maskline sent lately and its provider took. */
const TEXTED_BUCKET = 'maskline-texted';
/** A pair counts as texted for at least this long after its last send. */
const TEXTED_WINDOW_MS = 10 * 60_000;
/** A replica writes a pair's entry again no sooner than this after its last write... */
const REWRITE_AFTER_MS = 5 * 60_000;
/** ...which the entry outlives by the window: it lives TEXTED_WINDOW_MS past the last send at least. */
const ENTRY_TTL_MS = TEXTED_WINDOW_MS + REWRITE_AFTER_MS;
/** Pairs a replica remembers writing; forgotten all at once when full. */
const REMEMBERED_MAX = 100_000;
const PRESENT = new Uint8Array([1]);

/**
 * The texts Maskline itself sent lately to numbers it serves, by sender and recipient, that their
 * provider took (a relay, a fallback, a Service's reply). A text that comes in to a number from a number Maskline
 * just texted it from is most likely Maskline's own (two sessions naming each other's numbers),
 * and answering or relaying it would send it round again.
 *
 * Only a send the provider took counts: it is the provider account's word that it may send from
 * the number. Adding a number to an inventory proves nothing (no provider is asked), so "a number
 * with a live session" could be anyone's phone, added by another tenant to have that phone's
 * texts dropped in every tenant's sessions. Keyed by the recipient too: a provider that let a
 * tenant send from a phone it does not hold (a sender ID some countries allow) would let it drop
 * only that phone's texts to the numbers it texted from it, and whether Maskline texted from one
 * number to another tells a tenant nothing it did not see.
 */
@Injectable()
export class TextedNumbers {
  /** When this replica last wrote each pair's entry. */
  private readonly written = new Map<string, number>();
  private readonly failures;

  constructor(
    private readonly kv: KeyValueStores,
    @Inject(CLOCK) private readonly now: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    kv.declare(TEXTED_BUCKET, { ttlMs: ENTRY_TTL_MS });
    this.failures = metrics.counter(
      'maskline_texted_record_failures_total',
      'Sends taken by a provider that could not be recorded (a text coming back from their recipient is then not known as Maskline’s own)',
    );
  }

  /**
   * Records that the provider took a text from `from` to `to`. Never fails: the send is made and
   * settled, and must not be made again for want of this record; one that cannot be written is
   * logged and counted (a loop that text starts goes on until a later send's record is written).
   */
  async recordAcceptedSend(from: string, to: string): Promise<void> {
    const key = keyOf(from, to);
    const at = this.now();
    const last = this.written.get(key);
    if (last !== undefined && at - last < REWRITE_AFTER_MS) return;
    try {
      await (await this.kv.bucket(TEXTED_BUCKET)).put(key, PRESENT);
      if (this.written.size >= REMEMBERED_MAX) this.written.clear();
      this.written.set(key, at);
    } catch (err) {
      this.failures.inc();
      this.logger.warn(
        { err },
        'could not record a text Maskline sent; one coming back is not known as its own',
      );
    }
  }

  /** Whether Maskline texted from `from` to `to` within the last TEXTED_WINDOW_MS at least (one KV read). */
  async textedLately(from: string, to: string): Promise<boolean> {
    const entry = await (await this.kv.bucket(TEXTED_BUCKET)).get(keyOf(from, to));
    return entry?.operation === 'PUT';
  }
}

function keyOf(from: string, to: string): string {
  return `p.${kvToken(from)}.${kvToken(to)}`;
}
