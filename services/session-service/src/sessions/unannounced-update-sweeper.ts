import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError } from '@maskline/contracts';
import { LOGGER } from '@maskline/observability';
import { PeriodicTask } from '@maskline/service-kit';
import { SessionAnnouncer, hasNumber } from './session-announcer';
import { SessionRepository } from './session.repository';
import { SessionWriteTurns } from './session-write-turns';
import { UnannouncedUpdates } from './unannounced-updates.repository';

/** How often every replica looks for changes an API request could not announce. */
export const UNANNOUNCED_SWEEP_INTERVAL_MS = 30_000;
/** Notes read at a time. */
const SWEEP_BATCH = 100;
/** Batches a pass takes at most while each settles some note (a long outage's backlog drains faster). */
const SWEEP_BATCHES_PER_PASS = 10;

/**
 * Announces the last stored change of each session noted in `unannounced_updates`, as the store
 * holds it now (under its change time: a repeat the stream drops, or, past its duplicate window, the
 * same view again, which routers keep once and which has no callback), then forgets the note. A
 * session ended meanwhile is left to its end's own announcement. A Proxy session with no second
 * party has its second participant's write fenced first (`fenceSecondJoin`): an add that could not
 * tell whether it landed leaves its note to this sweep, and it must not land after the note is gone. In the session's write turn, as
 * the changes that note it: a change stored while a note was being settled is noted after it, never
 * forgotten with it. Runs on every replica; a note whose announcement fails for now stays for the
 * next pass; one whose announcement is refused for good is forgotten, logged with its code.
 */
@Injectable()
export class UnannouncedUpdateSweeper extends PeriodicTask {
  constructor(
    private readonly unannounced: UnannouncedUpdates,
    private readonly sessions: SessionRepository,
    private readonly announcer: SessionAnnouncer,
    private readonly writeTurns: SessionWriteTurns,
    @Inject(LOGGER) logger: Logger,
  ) {
    super('unannounced update sweep', UNANNOUNCED_SWEEP_INTERVAL_MS, logger);
  }

  protected async runOnce(): Promise<void> {
    for (let batch = 0; batch < SWEEP_BATCHES_PER_PASS; batch++) {
      const notes = await this.unannounced.pendingSystemWide(SWEEP_BATCH);
      let settled = 0;
      for (const note of notes) {
        if (await this.settle(note.accountId, note._id)) settled++;
      }
      if (notes.length < SWEEP_BATCH || settled === 0) return;
    }
  }

  /** True when the note is gone (announced, ended, or refused for good); false when it stays. */
  private async settle(accountId: string, sessionId: string): Promise<boolean> {
    try {
      await this.writeTurns.during(accountId, sessionId, () => this.announce(sessionId));
      return true;
    } catch (err) {
      if (err instanceof CodedError && !err.retryable) {
        this.logger.error(
          { err, code: err.code, sessionId },
          'a session change could not be announced and will not be: the routers route by the session as it was until its next change',
        );
        await this.unannounced.forgetSystemWide(sessionId);
        return true;
      }
      this.logger.warn({ err, sessionId }, 'a session change stays unannounced until the next pass');
      return false;
    }
  }

  private async announce(sessionId: string): Promise<void> {
    let stored = await this.sessions.getLiveSystemWide(sessionId);
    if (stored?.status === 'active' && stored.proxy && hasNumber(stored) && stored.secondParty === null) {
      // A Proxy session with no second party may have a second participant's write still to land
      // (its add could not tell, and left this note): fenced first, so none lands once the note is
      // gone. Not fenced (one landed since the read): read again, and that is what is announced.
      const scope = { accountId: stored.accountId };
      if (!(await this.sessions.fenceSecondJoin(scope, sessionId, stored.joinFence ?? null))) {
        stored = await this.sessions.getLiveSystemWide(sessionId);
      }
    }
    if (stored?.status === 'active' && hasNumber(stored)) {
      await this.announcer.updated(stored, stored.modifiedAt);
      this.logger.info({ sessionId }, 'announced a session change its request could not');
    }
    await this.unannounced.forgetSystemWide(sessionId);
  }
}
