import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '@maskline/observability';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { SessionRepository } from '../sessions/session.repository';
import { SessionExpirer } from './session-expirer';

/**
 * Driven by data, not timers: every EXPIRY_POLL_MS each replica looks for active sessions whose
 * expiry time has passed and ends them (the expirer makes sure only one replica does each). A
 * restart loses nothing: the next poll finds what is due.
 */
@Injectable()
export class ExpiryScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly sessions: SessionRepository,
    private readonly expirer: SessionExpirer,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = undefined));
    }, this.config.EXPIRY_POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async tick(): Promise<void> {
    let due;
    try {
      due = await this.sessions.dueForExpiry(new Date(), 100);
    } catch (err) {
      this.logger.warn({ err }, 'expiry poll failed; next poll retries');
      return;
    }
    for (const session of due) {
      try {
        await this.expirer.expire(session, 'timeout');
      } catch (err) {
        this.logger.warn({ err, sessionId: session._id }, 'expiry failed; it will be retried');
      }
    }
  }
}
