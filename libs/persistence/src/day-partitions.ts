import type { Connection, Model, Schema } from 'mongoose';
import { buildIndexes } from './index-synchronizer';

const DAY_MS = 86_400_000;
/** How often each replica makes the coming days' collections ahead and forgets dropped days (`keepAhead`). */
export const DAY_PARTITIONS_PREPARE_EVERY_MS = 3_600_000;

/** A UTC day's suffix of a partition's name: `yyyymmdd`. */
export function dayPartitionSuffix(at: Date): string {
  return at.toISOString().slice(0, 10).replace(/-/g, '');
}

/** One day's collection: its name and the first instant it holds. */
export interface DayPartition {
  name: string;
  from: Date;
}

/**
 * One kind of history kept as one collection per UTC day (`<base>_<yyyymmdd>`), so that retention
 * drops whole days: on FerretDB v1 a delete scans its whole collection (at 241,000 callback
 * attempts one range delete took 137 s of a busy store), where dropping a collection costs the same
 * at any size. Reads of a time range read only its days. Each day's collection gets the schema's
 * indexes when it is first written to (`modelFor`), or ahead of time (`prepare`); the day's model is
 * made once per process, and so is its view (`viewOf`: the repository a service reads a day through).
 */
export class DayPartitions<T, V = Model<T>> {
  readonly #models = new Map<string, Promise<Model<T>>>();
  readonly #views = new Map<string, V>();
  readonly #schema: Schema;
  readonly #pattern: RegExp;

  constructor(
    private readonly connection: Connection,
    /** The collections' common name; the days' are `<base>_<yyyymmdd>`. */
    readonly base: string,
    schema: Schema,
    /** What a day is read and written through, made once per day and process. */
    private readonly view: (model: Model<T>) => V = (model) => model as unknown as V,
  ) {
    // Never created or indexed by mongoose on the side (with the connection's deadline): `buildIndexes` does both.
    const own = schema.clone() as Schema;
    own.set('autoCreate', false);
    own.set('autoIndex', false);
    this.#schema = own;
    this.#pattern = new RegExp(`^${base}_(\\d{4})(\\d{2})(\\d{2})$`);
  }

  /** The collection `at`'s day goes to. */
  nameOf(at: Date): string {
    return `${this.base}_${dayPartitionSuffix(at)}`;
  }

  /** The model of `at`'s day, its collection and indexes made first if missing (once per process). */
  modelFor(at: Date): Promise<Model<T>> {
    const name = this.nameOf(at);
    let model = this.#models.get(name);
    if (!model) {
      model = (async () => {
        const m = this.modelOf(name);
        await buildIndexes(m as unknown as Model<unknown>);
        return m;
      })();
      this.#models.set(name, model);
      // A build that failed (the store away) is tried again at the next write.
      model.catch(() => this.#models.delete(name));
    }
    return model;
  }

  /** The view of `at`'s day, its collection made first if missing (`modelFor`). */
  async viewFor(at: Date): Promise<V> {
    return this.viewOf((await this.modelFor(at)).collection.collectionName);
  }

  /** The view of an existing day's collection, by name. */
  viewOf(name: string): V {
    let view = this.#views.get(name);
    if (!view) {
      view = this.view(this.modelOf(name));
      this.#views.set(name, view);
    }
    return view;
  }

  /**
   * `prepareAhead` now and every DAY_PARTITIONS_PREPARE_EVERY_MS, so that the first write of a day
   * waits for no index build (it would build them itself if it had to): each replica's upkeep. A
   * failure goes to `onFailure` and is tried again at the next tick. The returned function stops it.
   */
  async keepAhead(clock: () => number, onFailure: (err: unknown) => void): Promise<() => void> {
    const run = async () => {
      try {
        await this.prepareAhead(new Date(clock()));
      } catch (err) {
        onFailure(err);
      }
    };
    await run();
    const timer = setInterval(() => void run(), DAY_PARTITIONS_PREPARE_EVERY_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Makes the collections of the days of `at` ahead of their first write (a write then waits for no index build). */
  async prepare(...at: Date[]): Promise<void> {
    for (const day of at) await this.modelFor(day);
  }

  /**
   * Each replica's upkeep: makes the collections of `now`'s day and the next ahead of their first
   * write, and forgets the days any replica's sweep dropped. The days left, oldest first.
   */
  async prepareAhead(now: Date): Promise<DayPartition[]> {
    await this.prepare(now, new Date(now.getTime() + DAY_MS));
    const left = await this.existing();
    this.forgetMissing(left);
    return left;
  }

  /** The days' collections that exist, oldest first. */
  async existing(): Promise<DayPartition[]> {
    const db = this.connection.db;
    if (!db) throw new Error('the store connection is not open');
    const names = await db.listCollections({}, { nameOnly: true }).toArray();
    const days: DayPartition[] = [];
    for (const { name } of names) {
      const m = this.#pattern.exec(name);
      if (m) days.push({ name, from: new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) });
    }
    return days.sort((a, b) => a.from.getTime() - b.from.getTime());
  }

  /**
   * Forgets this process's models of days no longer in `existing` (dropped by any replica's sweep),
   * on the connection too: one model a day would otherwise pile up for as long as the process runs.
   */
  forgetMissing(existing: readonly DayPartition[]): void {
    const names = new Set(existing.map((d) => d.name));
    for (const name of Object.keys(this.connection.models)) {
      if (this.#pattern.test(name) && !names.has(name)) {
        this.#models.delete(name);
        this.connection.deleteModel(name);
      }
    }
    for (const name of [...this.#models.keys()]) if (!names.has(name)) this.#models.delete(name);
    for (const name of [...this.#views.keys()]) if (!names.has(name)) this.#views.delete(name);
  }

  /** Those of `existing` that may hold documents at or after `since` (and, with `until`, at or before it). */
  async since(since: Date, until?: Date): Promise<DayPartition[]> {
    return (await this.existing()).filter(
      (d) =>
        d.from.getTime() + DAY_MS > since.getTime() &&
        (until === undefined || d.from.getTime() <= until.getTime()),
    );
  }

  /** The model of an existing day's collection, by name (reads and sweeps; no index build). */
  modelOf(name: string): Model<T> {
    const existing = this.connection.models[name] as unknown;
    if (existing) return existing as Model<T>;
    // Untyped on purpose: mongoose's inference over a generic schema is more than the compiler can take.
    const make = this.connection.model.bind(this.connection) as unknown as (
      name: string,
      schema: unknown,
      collection: string,
    ) => unknown;
    return make(name, this.#schema, name) as Model<T>;
  }

  /**
   * Drops every day wholly before `before`: how many documents they held, and the days left. The day
   * `before` falls in is left to a range delete. `beforeDrop` runs with each day first (what belongs
   * to its documents goes before them: a failure leaves the day for the next run).
   */
  async dropBefore(
    before: Date,
    beforeDrop?: (day: DayPartition, model: Model<T>) => Promise<void>,
  ): Promise<{ dropped: number; left: DayPartition[] }> {
    let dropped = 0;
    for (const day of await this.existing()) {
      if (day.from.getTime() + DAY_MS > before.getTime()) break;
      const model = this.modelOf(day.name);
      await beforeDrop?.(day, model);
      dropped += await model.estimatedDocumentCount();
      await model.collection.drop().catch((err: { codeName?: string; code?: number }) => {
        // Another replica's sweep dropped it first.
        if (err?.codeName !== 'NamespaceNotFound' && err?.code !== 26) throw err;
      });
    }
    const left = await this.existing();
    this.forgetMissing(left);
    return { dropped, left };
  }
}
