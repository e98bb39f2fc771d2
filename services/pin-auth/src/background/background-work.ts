import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { InFlightTracker } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import { PIN_AUTH_CONFIG, type PinAuthConfig } from '../config/pin-auth.config';

export interface BackgroundWorkOptions {
  /** Named in logs and metrics. */
  what: string;
  /** Work with the same key runs one after another, in the order given (one call's announcements). */
  key?: string;
  /** Tries in all, the first included; spaced 100 ms, 200 ms, ... up to 5 s apart. */
  attempts?: number;
}

const DEFAULT_ATTEMPTS = 10;

/**
 * Writes a reply does not wait for (announcements, records): started at once, tried again with
 * backoff while it fails, each failure logged with its code, and a write that runs out of tries
 * logged as an error and counted (`maskline_pin_background_lost_total`): never dropped in silence.
 * A failure the caller caused (a payload that breaks its contract) is not retried. Shutdown waits
 * for the writes under way (after NATS handlers have drained, before the connection closes).
 */
@Injectable()
export class BackgroundWork implements OnApplicationShutdown {
  private readonly running = new InFlightTracker();
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly outcomes;

  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(PIN_AUTH_CONFIG) private readonly config: PinAuthConfig,
    metrics: MetricsService,
  ) {
    this.outcomes = metrics.counter(
      'maskline_pin_background_total',
      'Writes done after the reply, by what and outcome (done, retried, lost)',
      ['what', 'outcome'],
    );
  }

  /** Starts `work` now (or after the earlier work of its key); resolves when it is done or given up. */
  run(work: () => Promise<unknown>, options: BackgroundWorkOptions): Promise<void> {
    const { key } = options;
    const before = key === undefined ? undefined : this.tails.get(key);
    const done = (before ? before.then(() => this.attempt(work, options)) : this.attempt(work, options)).then(
      () => undefined,
    );
    if (key !== undefined) {
      this.tails.set(key, done);
      void done.then(() => {
        if (this.tails.get(key) === done) this.tails.delete(key);
      });
    }
    return this.running.track(done);
  }

  get inFlight(): number {
    return this.running.size;
  }

  async onApplicationShutdown(): Promise<void> {
    // Work may start more work (a failure shared at shutdown records its lockout): settle until none is left.
    const deadline = Date.now() + this.config.SHUTDOWN_GRACE_MS;
    let left = this.running.size;
    while (left > 0 && Date.now() < deadline) left = await this.running.settle(deadline - Date.now());
    if (left > 0) {
      this.logger.error(
        { left, code: ErrorCodes.INTERNAL },
        'shutdown grace elapsed with background writes unfinished',
      );
    }
  }

  /** Never rejects: the outcome is logged and counted here. */
  private async attempt(work: () => Promise<unknown>, options: BackgroundWorkOptions): Promise<void> {
    const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
    for (let attempt = 1; ; attempt++) {
      try {
        await work();
        this.outcomes.inc({ what: options.what, outcome: 'done' });
        return;
      } catch (err) {
        const code = err instanceof CodedError ? err.code : ErrorCodes.INTERNAL;
        // A payload that breaks its contract fails the same way every time.
        const retryable = code !== ErrorCodes.VALIDATION;
        if (!retryable || attempt >= attempts) {
          this.outcomes.inc({ what: options.what, outcome: 'lost' });
          this.logger.error({ err, code, what: options.what, attempt }, 'background write given up');
          return;
        }
        const delayMs = Math.min(100 * 2 ** (attempt - 1), 5000);
        this.outcomes.inc({ what: options.what, outcome: 'retried' });
        this.logger.warn(
          { err, code, what: options.what, attempt, retryInMs: delayMs },
          'background write failed; trying again',
        );
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }
}
