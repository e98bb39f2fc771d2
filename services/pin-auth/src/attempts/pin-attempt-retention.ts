import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { retentionCutoff } from '@maskline/config';
import { SweepTurns } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { CLOCK, PeriodicTask, type Clock } from '@maskline/service-kit';
import { PIN_AUTH_CONFIG, type PinAuthConfig } from '../config/pin-auth.config';
import { PinAttemptLog } from './pin-attempt-log';

/**
 * Every REAPER_INTERVAL_MS, on the replica that takes the interval's turn (idempotent): PIN entries
 * older than PIN_ATTEMPT_RETENTION_DAYS go: whole days dropped, a range of the
 * cutoff's day deleted.
 */
@Injectable()
export class PinAttemptRetention extends PeriodicTask {
  constructor(
    private readonly log: PinAttemptLog,
    @Inject(PIN_AUTH_CONFIG) private readonly config: PinAuthConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) logger: Logger,
    turns: SweepTurns,
  ) {
    super(
      'pin attempt retention',
      config.REAPER_INTERVAL_MS,
      logger,
      turns.turnsOf('pin-attempt-retention', config.REAPER_INTERVAL_MS, clock),
    );
  }

  protected async runOnce(): Promise<void> {
    const before = retentionCutoff(this.config.PIN_ATTEMPT_RETENTION_DAYS, this.clock());
    const deleted = await this.log.purgeSystemWide(before);
    if (deleted > 0) this.logger.info({ deleted }, 'pin attempt retention sweep');
  }
}
