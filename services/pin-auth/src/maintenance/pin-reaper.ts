import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '@maskline/observability';
import { PeriodicTask } from '@maskline/service-kit';
import { PIN_AUTH_CONFIG, type PinAuthConfig } from '../config/pin-auth.config';
import { LivePinRegistryStore } from '../registration/live-pin-registry.store';
import { MongoPinRegistryStore } from '../registration/mongo-pin-registry.store';
import { PinThrottle } from '../throttling/pin-throttle';

/** The stray sweep reads every live record (a scan on FerretDB): one run in this many. */
const STRAY_SWEEP_EVERY_RUNS = 5;

/**
 * Purges retired registrations (a bounded batch per interval) and old lockouts and failures (in
 * slices where the store needs them) from the store; forgets throttle keys that no longer matter from this replica's copy; every fifth run,
 * retires live records that KV holds no entry of and deletes old KV entries no live record backs
 * (see LivePinRegistryStore.retireStrays and forgetUnrecorded); and,
 * hourly, removes the live bucket's markers of PINs released long ago.
 */
@Injectable()
export class PinReaper extends PeriodicTask {
  private runs = 0;

  constructor(
    private readonly registrations: MongoPinRegistryStore,
    private readonly livePins: LivePinRegistryStore,
    private readonly throttle: PinThrottle,
    @Inject(PIN_AUTH_CONFIG) private readonly config: PinAuthConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    super('pin reaper', config.REAPER_INTERVAL_MS, logger);
  }

  protected async runOnce(): Promise<void> {
    const now = new Date();
    // Each step on its own: one that fails (the store busy, KV) holds back none of the others, and the
    // run fails (the base logs it) once all have had their turn.
    const failed: unknown[] = [];
    const step = async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await work();
      } catch (err) {
        this.logger.warn({ err, step: what }, 'pin reaper step failed: the next run tries again');
        failed.push(err);
        return undefined;
      }
    };
    const retired = await step('retired registrations', () =>
      this.registrations.purgeRetiredSystemWide(
        new Date(now.getTime() - this.config.RETIRED_RETENTION_MS),
        1000,
      ),
    );
    const throttle = await step('old lockouts', () => this.throttle.purge(now));
    const purged = (retired ?? 0) + (throttle ?? 0);
    if (purged > 0) this.logger.debug({ purged }, 'pin reaper sweep');
    if (++this.runs % STRAY_SWEEP_EVERY_RUNS === 0)
      await step('strays', () => this.livePins.retireStrays(now));
    if (await step('old releases', () => this.livePins.purgeOldReleases(now))) {
      this.logger.debug('old release markers purged from KV');
    }
    if (failed.length > 0) throw failed[0];
  }
}
