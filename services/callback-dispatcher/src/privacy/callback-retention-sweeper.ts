import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { redactionCutoff, retentionCutoff } from '@maskline/config';
import { AccountPrivacy, SweepTurns } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import {
  CLOCK,
  PeriodicTask,
  SWEEP_BATCH,
  SWEEP_MAX_BATCHES,
  drainInBatches,
  type Clock,
} from '@maskline/service-kit';
import {
  CALLBACK_DISPATCHER_CONFIG,
  type CallbackDispatcherConfig,
} from '../config/callback-dispatcher.config';
import { CallbackAttempts } from '../records/callback-attempts.repository';
import { DeadLetters } from '../records/dead-letters.repository';
import { CallbackPartyRedaction } from './callback-party-redaction';

/** Letters an earlier version wrote without digests are redacted a write each, so many a batch. */
const LEGACY_BATCH = 500;
const LEGACY_MAX_BATCHES = (SWEEP_BATCH * SWEEP_MAX_BATCHES) / LEGACY_BATCH;
/**
 * How often the system looks for letters without digests under the current key (an earlier
 * version's, or recorded before PARTY_REDACTION_KEY changed): one replica's run in each such window,
 * and every run while the last look found some. Each look is a scan of the dead letters on FerretDB,
 * and it finds none but after an upgrade or a key change; such a letter is redacted up to this much
 * later than it falls due.
 */
export const LEGACY_LETTERS_CHECK_EVERY_MS = 3_600_000;

/**
 * Every RETENTION_SWEEP_INTERVAL_MS, on the replica that takes the interval's turn (each step is
 * idempotent): dead letters' party numbers give way to their digests PARTY_REDACTION_AFTER_HOURS
 * after the failure (unless the account keeps them; one statement for all that are due, as the
 * digests were recorded with the letter); attempts go after CALLBACK_ATTEMPT_RETENTION_DAYS (whole
 * days' collections dropped, a range of the cutoff's day deleted), dead letters after
 * DEAD_LETTER_RETENTION_DAYS. Both collections
 * grow with history (each read a scan on FerretDB), so it runs seldom and deletes what became due
 * since as one range (one scan; slices, each found by a sorted read, when the store refuses one that large).
 */
@Injectable()
export class CallbackRetentionSweeper extends PeriodicTask {
  private readonly swept;
  private readonly legacyLook;

  constructor(
    private readonly attempts: CallbackAttempts,
    private readonly letters: DeadLetters,
    private readonly privacy: AccountPrivacy,
    private readonly redaction: CallbackPartyRedaction,
    @Inject(CALLBACK_DISPATCHER_CONFIG) private readonly config: CallbackDispatcherConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) logger: Logger,
    metrics: MetricsService,
    turns: SweepTurns,
  ) {
    super(
      'callback retention sweep',
      config.RETENTION_SWEEP_INTERVAL_MS,
      logger,
      turns.turnsOf('callback-retention', config.RETENTION_SWEEP_INTERVAL_MS, clock),
    );
    this.legacyLook = turns.backlogLook('callback-legacy-letters', LEGACY_LETTERS_CHECK_EVERY_MS, clock);
    this.swept = metrics.counter(
      'maskline_callback_retention_total',
      'Callback records redacted or deleted by the retention sweep',
      ['record', 'action'],
    );
  }

  protected async runOnce(): Promise<void> {
    const now = this.clock();
    // Deletion first: it needs nothing but the store, so it goes on when the opt-out list cannot be read.
    const attemptsFrom = retentionCutoff(this.config.CALLBACK_ATTEMPT_RETENTION_DAYS, now);
    const attempts = await this.attempts.purgeSystemWide(attemptsFrom);
    const lettersFrom = retentionCutoff(this.config.DEAD_LETTER_RETENTION_DAYS, now);
    const letters = await this.letters.purgeSystemWide(lettersFrom);
    const keepers = await this.privacy.accountsKeepingNumbers();
    const redacted = await this.redactDue(redactionCutoff(this.config, now), keepers, new Date(now));
    this.swept.inc({ record: 'dead-letter', action: 'redacted' }, redacted);
    this.swept.inc({ record: 'attempt', action: 'deleted' }, attempts);
    this.swept.inc({ record: 'dead-letter', action: 'deleted' }, letters);
    if (redacted + attempts + letters > 0) {
      this.logger.info({ redacted, attempts, letters }, 'callback retention sweep');
    }
  }

  /**
   * What became due, in one statement; then, batch by batch, letters without digests under the
   * current key (an earlier version's, or recorded before the key changed), when it is time to look
   * for them (LEGACY_LETTERS_CHECK_EVERY_MS).
   */
  private async redactDue(before: Date, keepers: readonly string[], at: Date): Promise<number> {
    const redacted = await this.letters.redactDueSystemWide(before, keepers, at);
    if (!(await this.legacyLook.due())) return redacted;
    const legacy = await drainInBatches(
      async () => {
        const due = await this.letters.unredactedWithoutCurrentDigestsSystemWide(
          before,
          keepers,
          LEGACY_BATCH,
        );
        for (const letter of due) {
          await this.letters.redactSystemWide(letter._id, {
            params: this.redaction.redactedParams(letter.accountId, letter.params),
            redactedAt: at,
          });
        }
        return due.length;
      },
      LEGACY_BATCH,
      LEGACY_MAX_BATCHES,
    );
    await this.legacyLook.found(legacy > 0);
    return redacted + legacy;
  }
}
