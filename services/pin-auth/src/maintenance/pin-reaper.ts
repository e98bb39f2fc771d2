import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '@maskline/observability';
import { PIN_AUTH_CONFIG, type PinAuthConfig } from '../config/pin-auth.config';
import { MongoPinRegistryStore } from '../registration/mongo-pin-registry.store';
import { PinThrottle } from '../throttling/pin-throttle';

/** Purges retired registrations, old failures and old lockouts, a bounded batch per interval. */
@Injectable()
export class PinReaper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly registrations: MongoPinRegistryStore,
    private readonly throttle: PinThrottle,
    @Inject(PIN_AUTH_CONFIG) private readonly config: PinAuthConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.sweep().finally(() => (this.running = undefined));
    }, this.config.REAPER_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async sweep(): Promise<void> {
    try {
      const now = new Date();
      const purged =
        (await this.registrations.purgeRetired(
          new Date(now.getTime() - this.config.RETIRED_RETENTION_MS),
          1000,
        )) + (await this.throttle.purge(now, 1000));
      if (purged > 0) this.logger.debug({ purged }, 'pin reaper sweep');
    } catch (err) {
      this.logger.warn({ err }, 'pin reaper sweep failed; will retry next interval');
    }
  }
}
