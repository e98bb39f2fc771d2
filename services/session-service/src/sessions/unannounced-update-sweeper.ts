import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '@maskline/observability';
import { PeriodicTask } from '@maskline/service-kit';
import { SessionAnnouncer, hasNumber } from './session-announcer';
import { SessionRepository } from './session.repository';
import { UnannouncedUpdates } from './unannounced-updates.repository';

/** How often every replica looks for changes an API request could not announce. */
export const UNANNOUNCED_SWEEP_INTERVAL_MS = 30_000;
/** Entries a pass takes at most (a long outage's backlog goes over several passes). */
const SWEEP_BATCH = 100;

/**
 * Announces the last stored change of each session noted in `unannounced_updates`, as the store
 * holds it now (under its change time: a repeat the stream drops, or, past its duplicate window, the
 * same view again, which routers keep once and which has no callback), then forgets the note. A
 * session ended meanwhile is left to its end's own announcement. Runs on every replica; a note
 * whose announcement fails stays for the next pass.
 */
@Injectable()
export class UnannouncedUpdateSweeper extends PeriodicTask {
  constructor(
    private readonly unannounced: UnannouncedUpdates,
    private readonly sessions: SessionRepository,
    private readonly announcer: SessionAnnouncer,
    @Inject(LOGGER) logger: Logger,
  ) {
    super('unannounced update sweep', UNANNOUNCED_SWEEP_INTERVAL_MS, logger);
  }

  protected async runOnce(): Promise<void> {
    for (const note of await this.unannounced.pendingSystemWide(SWEEP_BATCH)) {
      await this.announce(note._id).catch((err: unknown) =>
        this.logger.warn(
          { err, sessionId: note._id },
          'a session change stays unannounced until the next pass',
        ),
      );
    }
  }

  private async announce(sessionId: string): Promise<void> {
    const stored = await this.sessions.getLiveSystemWide(sessionId);
    if (stored?.status === 'active' && hasNumber(stored)) {
      await this.announcer.updated(stored, stored.modifiedAt);
      this.logger.info({ sessionId }, 'announced a session change its request could not');
    }
    await this.unannounced.forgetSystemWide(sessionId);
  }
}
