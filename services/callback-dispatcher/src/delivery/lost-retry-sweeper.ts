import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { EventRetention, SweepTurns } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { CLOCK, PeriodicTask, type Clock } from '@maskline/service-kit';
import { CallbackDeliverer } from './callback-deliverer';
import { LostRetryWatch, WATCH_BLOCK, type WatchEntry, type WatchedRetry } from './lost-retry-watch';

/** How often the system looks for retries whose event the stream forgot (one replica's run each time). */
export const LOST_RETRY_SWEEP_MS = 60_000;
/** Blocks read a run at most (each one listing), so that a run after a long pause stays short. */
const BLOCKS_PER_RUN = 64;
/**
 * Watches read a run at most (each a dead letter written when its retry did not come): a run holds
 * the store's turn, and a flood can leave a block full of them.
 */
export const WATCHES_PER_RUN = 2_000;
/** Dead letters the store refuses one after the other before the run stops where it is (the store is down). */
const FAILURES_IN_A_ROW = 3;
/** Runs a lost watch is tried again whose dead letter the store refuses, alone (an hour of runs). */
const SWEEP_TRIES = 60;

/**
 * Every LOST_RETRY_SWEEP_MS, on the replica that takes the turn: reads the watched long retries
 * (`LostRetryWatch`) of every block of events the stream has wholly forgotten, and dead-letters
 * the callbacks whose retry never came, with a reason that says so; a dead letter can be replayed.
 * Before it, a flood of events that started after a retry was scheduled made the stream forget
 * the event, and the retry silently never came.
 */
@Injectable()
export class LostRetrySweeper extends PeriodicTask {
  private readonly lost;
  /** Callbacks counted lost by this process (what `sweep` answers is its run's share). */
  private lostSoFar = 0;

  constructor(
    private readonly watch: LostRetryWatch,
    private readonly retention: EventRetention,
    private readonly deliverer: CallbackDeliverer,
    @Inject(CLOCK) clock: Clock,
    @Inject(LOGGER) logger: Logger,
    metrics: MetricsService,
    turns: SweepTurns,
  ) {
    super(
      'lost retry sweep',
      LOST_RETRY_SWEEP_MS,
      logger,
      turns.turnsOf('callback-lost-retries', LOST_RETRY_SWEEP_MS, clock),
    );
    this.lost = metrics.counter(
      'maskline_callback_retries_lost_total',
      'Callbacks whose scheduled retry never came, their event forgotten by the full event stream first: dead-lettered',
      [],
    );
  }

  protected async runOnce(): Promise<void> {
    await this.sweep();
  }

  /** One pass: how many callbacks it dead-lettered. */
  async sweep(): Promise<number> {
    await this.retention.read();
    const first = this.retention.firstSequence();
    // Unknown (NATS not answering): nothing is judged lost.
    if (first === undefined) return 0;
    const cursor = await this.watch.cursor();
    // Judged: the events the stream had forgotten at the last run already, so that a retry that came
    // just before the stream forgot its event has had a run's time to end and remove its watch; and
    // never past the stream as it is now (made again, numbering from 1).
    const judgeBelow = cursor.first === undefined ? 0 : Math.min(cursor.first, first);
    if (judgeBelow === 0) {
      await this.watch.setCursor({ ...cursor, first });
      return 0;
    }
    // Blocks below this one are wholly forgotten; of this one, the events before `judgeBelow`.
    const through = Math.floor(judgeBelow / WATCH_BLOCK);
    let block = cursor.block;
    // Lost (the bucket forgot it), or ahead of the stream (made again): from the lowest block
    // watched, and never past the stream.
    if (block === undefined || block > through) {
      block = Math.min((await this.watch.lowestBlock()) ?? through, through);
    }
    const lostBefore = this.lostSoFar;
    let budget = WATCHES_PER_RUN;
    for (let n = 0; n < BLOCKS_PER_RUN && budget > 0; n++) {
      const partly = block === through;
      // Every watch still there is a callback put off whose retry never came: one that ends removes
      // its watch.
      const { entries, complete } = await this.watch.ofBlock(block, partly ? judgeBelow : Infinity, budget);
      const swept: WatchEntry[] = [];
      const refused: Array<WatchEntry & { retry: WatchedRetry }> = [];
      let failedInARow = 0;
      for (const entry of entries) {
        if (!entry.retry) {
          swept.push(entry);
          continue;
        }
        try {
          if (await this.deliverer.deadLetterLost(entry.retry)) this.counted(1);
          swept.push(entry);
          failedInARow = 0;
        } catch (err) {
          this.logger.error(
            { code: (err as { code?: unknown }).code, eventId: entry.retry.eventId },
            'could not dead-letter a lost callback retry',
          );
          refused.push({ ...entry, retry: entry.retry });
          // Refused in a row, the store is down: the sweep stays at this block, the next run tries again.
          if (++failedInARow >= FAILURES_IN_A_ROW) break;
        }
      }
      // Refused alone: tried again at the next runs in the block the sweep reads at every run (not in
      // the way of every watch after it), and given up, counted lost, after SWEEP_TRIES.
      if (failedInARow < FAILURES_IN_A_ROW) {
        for (const entry of refused) {
          if ((entry.retry.sweepFailures ?? 0) + 1 < SWEEP_TRIES) {
            await this.watch.tryAgainIn(through, entry);
            continue;
          }
          this.logger.error(
            { eventId: entry.retry.eventId, tries: SWEEP_TRIES },
            'a lost callback retry given up: the store would not take its dead letter',
          );
          this.counted(1);
          swept.push(entry);
        }
      }
      await this.watch.forget(swept);
      budget -= entries.length;
      // The block the stream is forgetting now is read again at the next run; so is one cut short
      // (by the budget, or the store not taking dead letters).
      if (partly || failedInARow >= FAILURES_IN_A_ROW || !complete || budget <= 0) break;
      block++;
    }
    // Written every run, moved or not: the bucket forgets its oldest entries first when full.
    await this.watch.setCursor({ block, first });
    const lost = this.lostSoFar - lostBefore;
    if (lost > 0) {
      this.logger.error(
        { lost },
        'callbacks dead-lettered: the event stream forgot their events before their retries came',
      );
    }
    return lost;
  }

  /** Counted as each is dead-lettered: a run that fails after it (NATS) does not lose the count. */
  private counted(n: number): void {
    this.lost.inc(n);
    this.lostSoFar += n;
  }
}
