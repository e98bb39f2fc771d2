import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { SweepTurns } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { PeriodicTask } from '@maskline/service-kit';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { LIVE_SESSION_COUNT_KINDS, LiveSessionQuota } from './live-session-quota';
import { SessionRepository } from './session.repository';

/**
 * Sets each account's and each subaccount's live-session count (`LiveSessionQuota`) to what the
 * store holds, every LIVE_SESSIONS_RECOUNT_MS on one replica (a turn of SweepTurns: on FerretDB the
 * count is a scan of the live sessions). What a crash left miscounted (a creation that took one and
 * died before its session's write was answered, an end whose give-back failed, an end given back
 * twice) lasts until then at most. Only what the count proves is changed, whatever creations and
 * ends happen while it runs (`SharedCounters.recount`); a creation under way when it began
 * (counted, not yet stored) may be left out until the next.
 */
@Injectable()
export class LiveSessionRecount extends PeriodicTask {
  constructor(
    private readonly quota: LiveSessionQuota,
    private readonly sessions: SessionRepository,
    @Inject(SESSION_SERVICE_CONFIG) config: SessionServiceConfig,
    @Inject(LOGGER) logger: Logger,
    turns: SweepTurns,
  ) {
    super(
      'live session recount',
      config.LIVE_SESSIONS_RECOUNT_MS,
      logger,
      turns.turnsOf('live-session-recount', config.LIVE_SESSIONS_RECOUNT_MS, Date.now),
    );
  }

  protected async runOnce(): Promise<void> {
    const before = {
      account: await this.quota.counts('account'),
      subaccount: await this.quota.counts('subaccount'),
    };
    const { byAccount, bySubaccount } = await this.sessions.countedByOwnerSystemWide();
    const counted = { account: byAccount, subaccount: bySubaccount };
    let failed = 0;
    for (const kind of LIVE_SESSION_COUNT_KINDS) {
      for (const key of new Set([...before[kind].keys(), ...counted[kind].keys()])) {
        try {
          const was = before[kind].get(key);
          const { value, corrected } = await this.quota.correct(kind, key, counted[kind].get(key) ?? 0, was);
          if (corrected !== 0) {
            this.logger.info(
              { [`${kind}Id`]: key, corrected, now: value },
              'live session count corrected from the store',
            );
          }
        } catch (err) {
          // One count (its writers racing every try, KV away a moment) never keeps the others from
          // being corrected: it is tried again at the next run.
          failed++;
          this.logger.warn({ err, [`${kind}Id`]: key }, 'a live session count not corrected this run');
        }
      }
    }
    if (failed > 0) throw new Error(`${failed} live session counts not corrected; the next run tries again`);
  }
}
