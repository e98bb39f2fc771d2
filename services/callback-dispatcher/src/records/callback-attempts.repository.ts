import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import type { Connection, Model } from 'mongoose';
import { DayPartitions } from '@maskline/persistence';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { CallbackAttemptRecords } from './callback-attempt-records';
import { CallbackAttemptDocument, CallbackAttemptSchema } from './callback-records.schema';

/** The most attempts a session's list gives (the API pages within it). */
export const SESSION_ATTEMPTS_MAX = 10_000;
const DAY_MS = 86_400_000;

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
export class CallbackAttempts implements OnModuleInit {
  private readonly days: DayPartitions<CallbackAttemptDocument>;
  /** The collection kept before attempts were kept by day: read and swept until empty. */
  private readonly before: CallbackAttemptRecords;
  private readonly records = new Map<string, CallbackAttemptRecords>();

  constructor(
    @InjectConnection() connection: Connection,
    @InjectModel(CallbackAttemptDocument.name) model: Model<CallbackAttemptDocument>,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.days = new DayPartitions(connection, model.collection.collectionName, CallbackAttemptSchema);
    this.before = new CallbackAttemptRecords(model);
  }

  /** Today's and tomorrow's collections, at boot. */
  async onModuleInit(): Promise<void> {
    await this.prepare(new Date(this.clock()));
  }

  async record(attempt: Omit<CallbackAttemptDocument, '_id'>): Promise<void> {
    const model = await this.days.modelFor(attempt.at);
    await this.recordsOf(model.collection.collectionName, model).record(attempt);
  }

  /** Makes the collections of today and tomorrow ahead of their first attempt (a delivery then waits for no build). */
  prepare(now: Date): Promise<void> {
    return this.days.prepare(now, new Date(now.getTime() + DAY_MS));
  }

  /** A session's attempts in time order, at most SESSION_ATTEMPTS_MAX. */
  async ofSession(accountId: string, sessionId: string): Promise<CallbackAttemptDocument[]> {
    const found: CallbackAttemptDocument[] = [];
    for (const records of await this.allRecords()) {
      found.push(...(await records.ofSession(accountId, sessionId, SESSION_ATTEMPTS_MAX)));
    }
    return found.sort((a, b) => a.at.getTime() - b.at.getTime()).slice(0, SESSION_ATTEMPTS_MAX);
  }

  /** An account's attempts since a time, newest first, at most `limit`: only the days since then are read. */
  async since(accountId: string, since: Date, limit: number): Promise<CallbackAttemptDocument[]> {
    const found: CallbackAttemptDocument[] = [];
    const days = (await this.days.since(since)).map((d) => this.recordsOf(d.name));
    for (const records of [this.before, ...days])
      found.push(...(await records.since(accountId, since, limit)));
    return found.sort((a, b) => b.at.getTime() - a.at.getTime()).slice(0, limit);
  }

  /** The retention sweep: the days wholly before `before` dropped, then a range of the day it falls in and of the collection kept before. */
  async purgeSystemWide(before: Date): Promise<number> {
    let deleted = await this.days.dropBefore(before);
    const left = await this.days.existing();
    for (const name of this.records.keys()) if (!left.some((d) => d.name === name)) this.records.delete(name);
    const day = left.find((d) => d.name === this.days.nameOf(before));
    if (day) deleted += await this.recordsOf(day.name).purgeSystemWide(before);
    return deleted + (await this.before.purgeSystemWide(before));
  }

  private async allRecords(): Promise<CallbackAttemptRecords[]> {
    return [this.before, ...(await this.days.existing()).map((d) => this.recordsOf(d.name))];
  }

  private recordsOf(name: string, model?: Model<CallbackAttemptDocument>): CallbackAttemptRecords {
    let records = this.records.get(name);
    if (!records) {
      records = new CallbackAttemptRecords(model ?? this.days.modelOf(name));
      this.records.set(name, records);
    }
    return records;
  }
}
