import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { redactPartyNumber } from '@maskline/contracts';
import { redactionCutoff, retentionCutoff } from '@maskline/config';
import { AccountPrivacy } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { CLOCK, PeriodicTask, type Clock } from '@maskline/service-kit';
import {
  CALLBACK_DISPATCHER_CONFIG,
  type CallbackDispatcherConfig,
} from '../config/callback-dispatcher.config';
import { CallbackAttempts } from '../records/callback-attempts.repository';
import { DeadLetters } from '../records/dead-letters.repository';
import { redactCallbackParams } from './redact-callback-params';

const BATCH = 500;

/**
 * Every RETENTION_SWEEP_INTERVAL_MS, on every replica (each step is idempotent): dead letters'
 * party numbers give way to their digests PARTY_REDACTION_AFTER_HOURS after the failure (unless
 * the account keeps them); attempts go after CALLBACK_ATTEMPT_RETENTION_DAYS, dead letters after
 * DEAD_LETTER_RETENTION_DAYS. A bounded batch of each per run.
 */
@Injectable()
export class CallbackRetentionSweeper extends PeriodicTask {
  private readonly swept;

  constructor(
    private readonly attempts: CallbackAttempts,
    private readonly letters: DeadLetters,
    private readonly privacy: AccountPrivacy,
    @Inject(CALLBACK_DISPATCHER_CONFIG) private readonly config: CallbackDispatcherConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) logger: Logger,
    metrics: MetricsService,
  ) {
    super('callback retention sweep', config.RETENTION_SWEEP_INTERVAL_MS, logger);
    this.swept = metrics.counter(
      'maskline_callback_retention_total',
      'Callback records redacted or deleted by the retention sweep',
      ['record', 'action'],
    );
  }

  protected async runOnce(): Promise<void> {
    const now = this.clock();
    // Deletion first: it needs nothing but the store, so it goes on when the opt-out list cannot be read.
    const attempts = await this.attempts.purgeSystemWide(
      retentionCutoff(this.config.CALLBACK_ATTEMPT_RETENTION_DAYS, now),
      BATCH,
    );
    const letters = await this.letters.purgeSystemWide(
      retentionCutoff(this.config.DEAD_LETTER_RETENTION_DAYS, now),
      BATCH,
    );
    const keepers = await this.privacy.accountsKeepingNumbers();
    const due = await this.letters.unredactedBeforeSystemWide(
      redactionCutoff(this.config, now),
      keepers,
      BATCH,
    );
    for (const letter of due) {
      await this.letters.redactSystemWide(letter._id, {
        params: redactCallbackParams(letter.params, (e164) =>
          redactPartyNumber(this.config.PARTY_REDACTION_KEY, letter.accountId, e164),
        ),
        redactedAt: new Date(now),
      });
    }
    this.swept.inc({ record: 'dead-letter', action: 'redacted' }, due.length);
    this.swept.inc({ record: 'attempt', action: 'deleted' }, attempts);
    this.swept.inc({ record: 'dead-letter', action: 'deleted' }, letters);
    if (due.length + attempts + letters > 0) {
      this.logger.info({ redacted: due.length, attempts, letters }, 'callback retention sweep');
    }
  }
}
