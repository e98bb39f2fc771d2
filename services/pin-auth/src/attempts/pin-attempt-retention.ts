import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { retentionCutoff } from '@maskline/config';
import { LOGGER } from '@maskline/observability';
import { CLOCK, PeriodicTask, type Clock } from '@maskline/service-kit';
import { PIN_AUTH_CONFIG, type PinAuthConfig } from '../config/pin-auth.config';
import { PinAttemptLog } from './pin-attempt-log';

const BATCH = 500;

/** Every REAPER_INTERVAL_MS on every replica (idempotent): PIN entries older than PIN_ATTEMPT_RETENTION_DAYS go. */
@Injectable()
export class PinAttemptRetention extends PeriodicTask {
  constructor(
    private readonly log: PinAttemptLog,
    @Inject(PIN_AUTH_CONFIG) private readonly config: PinAuthConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) logger: Logger,
  ) {
    super('pin attempt retention', config.REAPER_INTERVAL_MS, logger);
  }

  protected async runOnce(): Promise<void> {
    const deleted = await this.log.purgeSystemWide(
      retentionCutoff(this.config.PIN_ATTEMPT_RETENTION_DAYS, this.clock()),
      BATCH,
    );
    if (deleted > 0) this.logger.info({ deleted }, 'pin attempt retention sweep');
  }
}
