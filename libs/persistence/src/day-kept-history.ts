import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Connection, Model, Schema } from 'mongoose';
import { admitHistoryScan } from '@maskline/observability';
import { DayPartitions, type DayPartition } from './day-partitions';

/** How many of a history's collections one read or sweep step works on at once. */
export const DAYS_AT_ONCE = 8;

/**
 * The most days a read of one session's records spans and still counts as a lookup: a session that
 * lived an hour spans up to four (the hour of clock skew before it, a day or two after its end). A read
 * spanning more (a session live for weeks, an id that names no time) costs what a list does, and is
 * admitted as a scan of the history as well (`admitHistoryScan`).
 */
export const LOOKUP_DAYS_MAX = 5;

/**
 * `each` over `collections`, DAYS_AT_ONCE at a time, the answers in their order; with `enough`, it
 * stops after the first group whose answers satisfy it.
 */
export async function eachDayAtOnce<V, R>(
  collections: readonly V[],
  each: (collection: V) => Promise<R>,
  enough?: (answers: R[]) => boolean,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < collections.length; i += DAYS_AT_ONCE) {
    const answers = await Promise.all(collections.slice(i, i + DAYS_AT_ONCE).map(each));
    out.push(...answers);
    if (enough?.(answers)) break;
  }
  return out;
}

/**
 * A history kept one collection per UTC day (`DayPartitions`), beside the collection it was kept in
 * before days (`before`, read and swept until it empties): each replica makes today's and
 * tomorrow's collections at boot and every hour (`keepAhead`), so a write waits for no index build.
 * `V` is what one collection is read and written through.
 */
export abstract class DayKeptHistory<T, V> implements OnModuleInit, OnModuleDestroy {
  protected readonly days: DayPartitions<T, V>;
  /** The collection kept before days. */
  protected readonly before: V;
  #stopPreparing?: () => void;

  protected constructor(
    connection: Connection,
    /** The collection kept before days; the days' are `<its name>_<yyyymmdd>`. */
    model: Model<T>,
    /** The days' schema (their indexes). */
    schema: Schema,
    view: (model: Model<T>) => V,
    private readonly upkeep: {
      clock: () => number;
      /** A failed upkeep (logged by the service; tried again within the hour). */
      onFailure: (err: unknown) => void;
    },
  ) {
    this.days = new DayPartitions(connection, model.collection.collectionName, schema, view);
    this.before = view(model);
  }

  /**
   * The views of the days that may hold records at or after `since` (every day without it) and, with
   * `until`, at or before it; oldest first.
   */
  protected async dayViews(since?: Date, until?: Date): Promise<V[]> {
    return (await this.daysWithViews(since, until)).map((d) => d.view);
  }

  /**
   * `dayViews` for a read of one session's records: past LOOKUP_DAYS_MAX days, first admitted as a
   * scan of the history as well (a request for a tenant; nothing otherwise), or refused.
   */
  protected async dayViewsOfOne(since?: Date, until?: Date): Promise<V[]> {
    const views = await this.dayViews(since, until);
    if (views.length > LOOKUP_DAYS_MAX) await admitHistoryScan();
    return views;
  }

  /** `dayViews`, each with its day. */
  protected async daysWithViews(since?: Date, until?: Date): Promise<Array<DayPartition & { view: V }>> {
    const days = since ? await this.days.since(since, until) : await this.days.existing();
    return days.map((d) => ({ ...d, view: this.days.viewOf(d.name) }));
  }

  /** `read` over `collections` in their order, each asked for what is left of `limit`, stopping once it has that many. */
  protected async readUpTo<R>(
    collections: readonly V[],
    limit: number,
    read: (records: V, left: number) => Promise<R[]>,
  ): Promise<R[]> {
    const found: R[] = [];
    for (const records of collections) {
      const left = limit - found.length;
      if (left <= 0) break;
      found.push(...(await read(records, left)));
    }
    return found;
  }

  /**
   * The retention sweep of a history kept by the day of the date its range delete goes by: the days
   * wholly before `before` dropped, then `trim` (that range delete) of the day `before` falls in and of
   * the collection kept before. How many records went.
   */
  protected async dropAndTrim(before: Date, trim: (records: V) => Promise<number>): Promise<number> {
    const { dropped, left } = await this.days.dropBefore(before);
    let deleted = dropped;
    const day = left.find((d) => d.name === this.days.nameOf(before));
    if (day) deleted += await trim(this.days.viewOf(day.name));
    return deleted + (await trim(this.before));
  }

  async onModuleInit(): Promise<void> {
    this.#stopPreparing = await this.days.keepAhead(this.upkeep.clock, this.upkeep.onFailure);
  }

  onModuleDestroy(): void {
    this.#stopPreparing?.();
  }
}
