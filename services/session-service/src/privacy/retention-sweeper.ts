import { RetiredCollections } from './retired-collections';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { redactionCutoff, retentionCutoff } from '@maskline/config';
import { AccountPrivacy, SweepTurns } from '@maskline/messaging';
import { LOGGER, MetricsService } from '@maskline/observability';
import {
  CLOCK,
  PeriodicTask,
  SWEEP_BATCH,
  SWEEP_MAX_BATCHES,
  drainInBatches,
  type Clock,
} from '@maskline/service-kit';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { IdempotencyKeys } from '../idempotency/idempotency-keys';
import { CallEventRepository } from '../interactions/call-event.repository';
import { AllocationFates } from '../saga/allocation-fates.repository';
import { ProxyParticipantRepository } from '../proxy-sessions/proxy-participant.repository';
import { ProxySessionNameRepository } from '../proxy-sessions/proxy-session-name.repository';
import { EndedSessionParties } from '../sessions/ended-session-parties.repository';
import { CALL_STEPS_GRACE_MS } from '../sessions/long-lived-sessions.repository';
import { SessionRepository } from '../sessions/session.repository';
import { PartyRedaction } from './party-redaction';
import { isStoreUnavailableError } from '@maskline/persistence';

/** Records an earlier version wrote without digests are redacted a write each, so many a batch. */
const LEGACY_BATCH = 200;
const LEGACY_MAX_BATCHES = (SWEEP_BATCH * SWEEP_MAX_BATCHES) / LEGACY_BATCH;
/**
 * How often the system looks for records an earlier version left with numbers (one replica's run in
 * each such window, whichever takes it first; every run while the last look found some): the query
 * is a scan of the collection ended sessions were kept in before days (`ended_sessions`; 23–42 s at
 * 100,000 on FerretDB), which holds little once an upgrade is done (the catch-up's sessions, and an
 * expiry's that finished over an hour after its day), and after it finds none. Such a record is redacted up to this much later than it falls due, only
 * during an upgrade from a version before 2026-11-30.
 */
export const LEGACY_CHECK_EVERY_MS = 3_600_000;

/** Defined with the sessions it makes long-lived (`LongLivedSessions`). */
export { CALL_STEPS_GRACE_MS };
/** How often call steps are deleted by time (one replica's run in each such window). */
export const CALL_STEPS_EVERY_MS = 3_600_000;
/**
 * The most sessions the call steps' sweep spares (their ids are held in memory while it runs; past
 * IN_QUERY_MAX it matches them in memory). Past it (more sessions live longer than the retention
 * period), no day of steps is dropped and the steps go with their sessions, by id.
 */
const STEPS_SPARE_MAX = 100_000;

/**
 * Every RETENTION_SWEEP_INTERVAL_MS, on one replica (the one that takes the interval's turn; each
 * step is idempotent, so a second replica running it would only cost time). Every step reads a
 * collection that grows with history, a scan on FerretDB, so it runs seldom and deletes what became
 * due since a range at a time (`deleteDue`: one scan to find a range, one to delete it). It never
 * updates a record but those an earlier version wrote: on FerretDB an update is a scan per
 * document under the store's write lock.
 * - an ended session's party numbers are deleted PARTY_REDACTION_AFTER_HOURS after it ended, unless
 *   its account keeps them (operator opt-out); its record has held their digests from the start;
 * - an ended session and its numbers are deleted SESSION_RETENTION_DAYS after it ended, its call steps
 *   within CALL_STEPS_GRACE_MS after that (they go by the time they were recorded);
 * - Idempotency-Keys and allocation fates go after IDEMPOTENCY_RETENTION_MS;
 * - collections an earlier version wrote and this one never uses are dropped (`RETIRED_COLLECTIONS`);
 * - past days of ended sessions are tallied for lists' counts (`EndedSessionTallies`), once each;
 * - ended sessions an earlier version left in `sessions` move to the history (a one-off catch-up),
 *   and the orphan reaper's tombstones are deleted after the retention period.
 */
@Injectable()
export class RetentionSweeper extends PeriodicTask {
  private readonly swept;
  /** Looks for an earlier version's records: one replica's run a window, and every run while some are found. */
  private readonly legacyLook;
  /** Call steps go by time in one replica's run an hour (`deleteCallSteps`). */
  private readonly stepsTurn;

  constructor(
    private readonly sessions: SessionRepository,
    private readonly callEvents: CallEventRepository,
    private readonly participantPlaces: ProxyParticipantRepository,
    private readonly sessionNames: ProxySessionNameRepository,
    private readonly privacy: AccountPrivacy,
    private readonly redaction: PartyRedaction,
    private readonly parties: EndedSessionParties,
    private readonly idempotency: IdempotencyKeys,
    private readonly fates: AllocationFates,
    private readonly retired: RetiredCollections,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) logger: Logger,
    metrics: MetricsService,
    turns: SweepTurns,
  ) {
    super(
      'retention sweep',
      config.RETENTION_SWEEP_INTERVAL_MS,
      logger,
      turns.turnsOf('session-retention', config.RETENTION_SWEEP_INTERVAL_MS, clock),
    );
    this.legacyLook = turns.backlogLook('session-legacy-check', LEGACY_CHECK_EVERY_MS, clock);
    this.stepsTurn = turns.oncePerWindow('session-call-steps', CALL_STEPS_EVERY_MS, clock);
    this.swept = metrics.counter(
      'maskline_session_retention_total',
      'Ended sessions redacted or deleted by the retention sweep',
      ['action'],
    );
  }

  protected async runOnce(): Promise<void> {
    const now = this.clock();
    // The numbers first: they are what the privacy promise is about, and deleting them is cheap (they
    // are the redaction period's, not the history's). That needs the opt-out list; when it cannot be
    // read, the deletions go on, and the run fails after them.
    const endedBefore = redactionCutoff(this.config, now);
    let keepers: readonly string[] | undefined;
    let failure: unknown;
    let redacted = 0;
    try {
      keepers = await this.privacy.accountsKeepingNumbers();
      redacted += await this.parties.redactDueSystemWide(endedBefore, keepers);
    } catch (err) {
      failure = err;
    }
    const retainedFrom = retentionCutoff(this.config.SESSION_RETENTION_DAYS, now);
    const deleted = (await this.deleteEnded(retainedFrom)) + (await this.deleteTombstones(retainedFrom));
    const keysFrom = new Date(now - this.config.IDEMPOTENCY_RETENTION_MS);
    await this.idempotency.purgeSystemWide(keysFrom);
    await this.fates.purgeSystemWide(keysFrom);
    // Like the redaction above: a failure here fails the run after the steps below.
    try {
      await this.retired.dropAll();
    } catch (err) {
      failure ??= err;
    }
    if (keepers) redacted += await this.redactLegacy(endedBefore, keepers);
    // Last: past days' tallies save lists their counts, and nothing above waits on them.
    try {
      await this.sessions.ended.tallyPastDaysSystemWide();
    } catch (err) {
      failure ??= err;
    }
    this.swept.inc({ action: 'redacted' }, redacted);
    this.swept.inc({ action: 'deleted' }, deleted);
    if (redacted + deleted > 0) this.logger.info({ redacted, deleted }, 'retention sweep');
    if (failure !== undefined) throw failure;
  }

  /**
   * What an earlier version left in its records, if one query finds any (an upgrade's backlog;
   * usually none, and one scan says so; asked once per LEGACY_CHECK_EVERY_MS across replicas): in
   * one statement those with digests under the current key beside the numbers, and batch by batch the
   * rest (no digests, or an earlier key's).
   */
  private async redactLegacy(endedBefore: Date, keepers: readonly string[]): Promise<number> {
    if (!(await this.legacyLook.due())) return 0;
    const some = await this.sessions.ended.anyUnredactedSystemWide(endedBefore, keepers);
    await this.legacyLook.found(some);
    if (!some) return 0;
    const at = new Date(this.clock());
    const redacted = await this.sessions.ended.redactLegacyDueSystemWide(endedBefore, keepers, at);
    return (
      redacted +
      (await drainInBatches(
        async () => {
          const due = await this.sessions.ended.unredactedWithoutCurrentDigestsSystemWide(
            endedBefore,
            keepers,
            LEGACY_BATCH,
          );
          for (const s of due) {
            await this.sessions.ended.redactSystemWide(s._id, {
              firstParty: this.redaction.digestOf(s.accountId, s.firstParty),
              secondParty: this.redaction.digestOf(s.accountId, s.secondParty),
              redactedAt: at,
            });
          }
          return due.length;
        },
        LEGACY_BATCH,
        LEGACY_MAX_BATCHES,
      ))
    );
  }

  /**
   * Ended sessions due for deletion: their numbers, call steps and Proxy places first (a crash in
   * between leaves a record without them, never a place or a number without a record), then the
   * records. Call steps go by their own time (`deleteCallSteps`); Proxy sessions' places and names
   * a slice of sessions at a time; the records themselves a day's collection at a time, and a range of
   * the cutoff's day (`EndedSessionRepository.deleteEndedBeforeSystemWide`).
   */
  private async deleteEnded(endedBefore: Date): Promise<number> {
    await this.parties.purgeSystemWide(endedBefore);
    const stepsByTime = await this.deleteCallSteps(endedBefore);
    const cascade = async (sessionIds: string[]) => {
      for (let i = 0; i < sessionIds.length; i += SWEEP_BATCH) {
        const ids = sessionIds.slice(i, i + SWEEP_BATCH);
        if (!stepsByTime) await this.callEvents.deleteForSessionsSystemWide(ids);
        // A Proxy session's participants' places go with it (its name went when it was deleted, or
        // goes now: an undeleted closed session kept it until its record goes).
        await this.participantPlaces.deleteForSessionsSystemWide(ids);
        await this.sessionNames.deleteForSessionsSystemWide(ids);
      }
    };
    return this.sessions.ended.deleteEndedBeforeSystemWide(endedBefore, cascade, {
      proxiesOnly: stepsByTime,
    });
  }

  /**
   * Call steps recorded more than CALL_STEPS_GRACE_MS before the retention cutoff, but those of
   * sessions that began before then and are still live or kept, as one range (one scan on FerretDB;
   * a cascade by session id costs a scan per thousand sessions: 100 scans for a backlog of 100,000).
   * A session's steps were recorded before it ended (or during a call that outlived it, at most
   * CALL_TIME_LIMIT later), so none is kept much past the cutoff plus the grace. Done in one
   * replica's run an hour (`stepsTurn`; the grace is a day): true then, and in the runs between
   * (the steps wait for the next hour's range). False when the steps must go with their sessions, by
   * id: more than STEPS_SPARE_MAX sessions to spare (logged), or the range failed (logged). The ids are
   * read from `sessions` before the history, so a session moving between them meanwhile is in one or
   * the other.
   */
  private async deleteCallSteps(endedBefore: Date): Promise<boolean> {
    if (!(await this.stepsTurn())) return true;
    const recordedBefore = new Date(endedBefore.getTime() - CALL_STEPS_GRACE_MS);
    const live = await this.sessions.createdBeforeSystemWide(recordedBefore, STEPS_SPARE_MAX + 1);
    const kept =
      live.length > STEPS_SPARE_MAX
        ? []
        : await this.sessions.ended.keptCreatedBeforeSystemWide(
            recordedBefore,
            endedBefore,
            STEPS_SPARE_MAX + 1 - live.length,
          );
    if (live.length + kept.length > STEPS_SPARE_MAX) {
      this.logger.warn(
        { spareMax: STEPS_SPARE_MAX },
        'more sessions to spare than the call steps sweep holds; steps go with their sessions, by id, and no day of steps is dropped',
      );
      return false;
    }
    try {
      await this.callEvents.deleteRecordedBeforeSystemWide(recordedBefore, [...live, ...kept]);
      return true;
    } catch (err) {
      if (isStoreUnavailableError(err)) throw err;
      this.logger.warn(
        { err },
        'call steps could not be deleted by time; they go with their sessions, by id',
      );
      return false;
    }
  }

  /** The orphan reaper's tombstones past retention (few: creations that never finished). */
  private async deleteTombstones(before: Date): Promise<number> {
    return drainInBatches(
      async () =>
        this.sessions.deleteSystemWide(await this.sessions.tombstonesBeforeSystemWide(before, SWEEP_BATCH)),
      SWEEP_BATCH,
      SWEEP_MAX_BATCHES,
    );
  }
}
