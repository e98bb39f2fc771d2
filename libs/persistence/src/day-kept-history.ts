import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Connection, Model, Schema } from 'mongoose';
import { DayPartitions } from './day-partitions';

/** How many of a history's collections one read or sweep step works on at once. */
export const DAYS_AT_ONCE = 8;

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

  async onModuleInit(): Promise<void> {
    this.#stopPreparing = await this.days.keepAhead(this.upkeep.clock, this.upkeep.onFailure);
  }

  onModuleDestroy(): void {
    this.#stopPreparing?.();
  }
}
