import { Inject, Injectable } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import type { Connection, Model } from 'mongoose';
import type { Logger } from 'pino';
import { sessionRecordsFrom } from '@maskline/contracts';
import { LOGGER } from '@maskline/observability';
import { DayKeptHistory } from '@maskline/persistence';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { CallbackAttemptRecords } from './callback-attempt-records';
import { CallbackAttemptDocument, CallbackAttemptSchema } from './callback-records.schema';

/** The most attempts a session's list gives (the API pages within it). */
export const SESSION_ATTEMPTS_MAX = 10_000;

/**
 * Every try to deliver a callback: inserted, never changed, kept CALLBACK_ATTEMPT_RETENTION_DAYS.
 * They are the largest history the system keeps (several per callback), so they are kept one
 * collection per UTC day (`callback_attempts_<yyyymmdd>`, `DayPartitions`): retention drops whole
 * days and range-deletes within the day of its cutoff alone, where one range delete over 241,000
 * attempts took 137 s of a busy FerretDB; statistics read only the days they cover. The collection
 * attempts were kept in before (`callback_attempts`) is still read and swept, and empties itself
 * within the retention period.
 */
@Injectable()
export class CallbackAttempts extends DayKeptHistory<CallbackAttemptDocument, CallbackAttemptRecords> {
  constructor(
    @InjectConnection() connection: Connection,
    @InjectModel(CallbackAttemptDocument.name) model: Model<CallbackAttemptDocument>,
    @Inject(CLOCK) clock: Clock,
    @Inject(LOGGER) logger: Logger,
  ) {
    super(connection, model, CallbackAttemptSchema, (day) => new CallbackAttemptRecords(day), {
      clock,
      onFailure: (err) =>
        logger.warn(
          { err },
          "could not make the callback attempts' collections ahead; tried again within the hour",
        ),
    });
  }

  /** Writes the attempt down in its day's collection; under `id`, once. */
  async record(attempt: Omit<CallbackAttemptDocument, '_id'>, id?: string): Promise<void> {
    await (await this.days.viewFor(attempt.at)).record(attempt, id);
  }

  /**
   * A session's attempts in time order, at most SESSION_ATTEMPTS_MAX: the oldest collections first
   * (of the days since it began, by its id: `sessionRecordsFrom`), stopping once it has that many.
   */
  async ofSession(accountId: string, sessionId: string): Promise<CallbackAttemptDocument[]> {
    const found = await this.readUpTo(
      [this.before, ...(await this.dayViewsOfOne(sessionRecordsFrom(sessionId)))],
      SESSION_ATTEMPTS_MAX,
      (records, left) => records.ofSession(accountId, sessionId, left),
    );
    return found.sort((a, b) => a.at.getTime() - b.at.getTime());
  }

  /**
   * An account's attempts since a time, newest first, at most `limit`: only the days since then are
   * read, the newest first, stopping once it has that many.
   */
  async since(accountId: string, since: Date, limit: number): Promise<CallbackAttemptDocument[]> {
    const found = await this.readUpTo(
      [...(await this.dayViews(since)).reverse(), this.before],
      limit,
      (records, left) => records.since(accountId, since, left),
    );
    return found.sort((a, b) => b.at.getTime() - a.at.getTime());
  }

  /** The retention sweep: the days wholly before `before` dropped, then a range of the day it falls in and of the collection kept before. */
  purgeSystemWide(before: Date): Promise<number> {
    return this.dropAndTrim(before, (records) => records.purgeSystemWide(before));
  }
}
