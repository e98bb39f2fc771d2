import type { Connection, Model, Schema } from 'mongoose';
import { buildIndexes } from './index-synchronizer';

const DAY_MS = 86_400_000;

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
 * made once per process.
 */
export class DayPartitions<T> {
  readonly #models = new Map<string, Promise<Model<T>>>();
  readonly #schema: Schema;
  readonly #pattern: RegExp;

  constructor(
    private readonly connection: Connection,
    /** The collections' common name; the days' are `<base>_<yyyymmdd>`. */
    readonly base: string,
    schema: Schema,
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

  /** Makes the collections of the days of `at` ahead of their first write (a write then waits for no index build). */
  async prepare(...at: Date[]): Promise<void> {
    for (const day of at) await this.modelFor(day);
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
  }

  /** Those of `existing` that may hold documents at or after `since`. */
  async since(since: Date): Promise<DayPartition[]> {
    return (await this.existing()).filter((d) => d.from.getTime() + DAY_MS > since.getTime());
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
   * `before` falls in is left to a range delete.
   */
  async dropBefore(before: Date): Promise<{ dropped: number; left: DayPartition[] }> {
    let dropped = 0;
    for (const day of await this.existing()) {
      if (day.from.getTime() + DAY_MS > before.getTime()) break;
      const model = this.modelOf(day.name);
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
