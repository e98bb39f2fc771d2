import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { KeyValueStores, kvToken } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { CLOCK, type Clock } from '@maskline/service-kit';

/** One entry per number Maskline has lately sent a text from, and its provider took. */
export const TEXTED_FROM_BUCKET = 'maskline-texted-from';
/** How long a number counts as one Maskline texted from after its last recorded send. */
const TEXTED_FROM_TTL_MS = 10 * 60_000;
/** A replica writes a number's entry again no sooner than this (it lives TEXTED_FROM_TTL_MS). */
const REWRITE_AFTER_MS = TEXTED_FROM_TTL_MS / 2;
/** Numbers a replica remembers writing; forgotten all at once when full. */
const REMEMBERED_MAX = 100_000;
const PRESENT = new Uint8Array([1]);

/**
 * The numbers Maskline itself has texted from lately: those whose provider took a send from them
 * (a relay, a fallback, a Service's reply). A text that comes in from one of them was most likely
 * sent by Maskline (two sessions naming each other's numbers), and answering or relaying it would
 * send it round again.
 *
 * Only a send the provider took counts: it is the provider account's word that it holds the number.
 * Adding a number to an inventory proves nothing (no provider is asked), so "a number with a live
 * session" could be anyone's phone, added by another tenant to have that phone's texts dropped in
 * every tenant's sessions; that tenant's provider refuses a send from a phone it does not hold.
 */
@Injectable()
export class TextedFromNumbers {
  /** When this replica last wrote each number's entry. */
  private readonly written = new Map<string, number>();
  private readonly failures;

  constructor(
    private readonly kv: KeyValueStores,
    @Inject(CLOCK) private readonly now: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    kv.declare(TEXTED_FROM_BUCKET, { ttlMs: TEXTED_FROM_TTL_MS });
    this.failures = metrics.counter(
      'maskline_texted_from_record_failures_total',
      'Sends taken by a provider that could not be recorded as texted from their number (a loop they start is then bounded by the answer interval only)',
    );
  }

  /**
   * Records that the provider took a text from `number`. Never fails: the send has been made, and
   * the message must be settled, not sent again; a record that cannot be written is logged.
   */
  async sent(number: string): Promise<void> {
    const at = this.now();
    const last = this.written.get(number);
    if (last !== undefined && at - last < REWRITE_AFTER_MS) return;
    try {
      await (await this.kv.bucket(TEXTED_FROM_BUCKET)).put(`n.${kvToken(number)}`, PRESENT);
      if (this.written.size >= REMEMBERED_MAX) this.written.clear();
      this.written.set(number, at);
    } catch (err) {
      this.failures.inc();
      this.logger.warn(
        { err },
        'could not record a number texted from; its loops are bounded by the answer interval only',
      );
    }
  }

  /** Whether Maskline has texted from `number` within the last TEXTED_FROM_TTL_MS (one KV read). */
  async lately(number: string): Promise<boolean> {
    const entry = await (await this.kv.bucket(TEXTED_FROM_BUCKET)).get(`n.${kvToken(number)}`);
    return entry?.operation === 'PUT';
  }
}
