import { HISTORY_READ_ANSWER_MS } from '@maskline/contracts';
import { admitHistoryRead, msLeftOfRequest } from '@maskline/observability';
import { byIds, byIdsPerAccount, guardedById, guardedIdOf, type ByIdGuard } from './by-id-statements';
import { InsertBatcher } from './insert-batcher';
import { STATEMENT_BATCH } from './write-batcher';
import { isFerretDb } from './index-synchronizer';
import { scanProfile } from './store-scan-profile';
import { isOnlyDuplicateKeyErrors, isTooManyMatchesError } from './mongo-errors';
import type { FilterQuery, Model, SortOrder, UpdateQuery, mongo } from 'mongoose';

/** The tenant key: every query against account data carries it, so a foreign id simply finds nothing. */
export interface AccountScope {
  accountId: string;
}

export type ScopedFilter<T> = FilterQuery<T> & AccountScope;

/** One document of an account, by id. */
export interface ScopedKey extends AccountScope {
  _id: string;
}

export interface PageRequest {
  limit: number;
  offset: number;
  sort?: Record<string, SortOrder>;
}

/**
 * The deadline of a history sweep's store command (`systemWideSweeps`), in place of
 * STORE_COMMAND_TIMEOUT_MS. On FerretDB v1 each of them scans a collection that grows with history:
 * at 100,000 ended sessions on a busy two-core store one took over 30 s, so under the ordinary
 * deadline no command of the sweep could finish and retention never made progress. A store silent
 * for this long is down.
 */
export const HISTORY_SWEEP_TIMEOUT_MS = 600_000;

/**
 * The most documents one history-sweep statement matches. FerretDB v1 deletes what a filter matched
 * with one SQL statement binding every matched `_id`; SQLite takes at most 32,766 bound parameters
 * and PostgreSQL 65,535, so a `deleteMany` matching more fails outright ("too many SQL variables";
 * both seen with 70,000 matches, 2026-11-30). A slice is one range, found in one scan and deleted in
 * one more, however many it holds.
 */
export const SWEEP_SLICE = 10_000;
/** A sweep's call drains up to this many slices: 200,000 documents. */
export const SWEEP_MAX_SLICES = 20;

/** An operator in place of an id (`{ $ne: … }`) would reach documents it does not name: refused. */
function refuseNonStringIds(ids: readonly unknown[]): void {
  if (ids.some((id) => typeof id !== 'string')) throw new TypeError('a statement by id takes string ids');
}

/** Documents by id, each within its own account, in one statement: on MongoDB an `_id` lookup per clause. */
function eachScoped<T>(keys: ReadonlyArray<ScopedKey>): FilterQuery<T> {
  return { $or: keys.map(({ accountId, _id }) => ({ accountId, _id })) } as FilterQuery<T>;
}

/** Whether every filtered read and count of the model's store is a scan of the collection (FerretDB v1). */
function scansReads(model: { db: { db?: mongo.Db } }): Promise<boolean> {
  const db = model.db.db;
  return db ? isFerretDb(db) : Promise.resolve(false);
}

/** How statements by id are best sent to the model's store (`ScanProfile`); null where it has indexes. */
function profileOf(model: { db: { db?: mongo.Db }; collection: { collectionName: string } }) {
  const db = model.db.db;
  return db ? scanProfile(db, model.collection.collectionName) : Promise.resolve(null);
}

/**
 * Queries across every account's documents: the system's own work (expiry sweeps, reapers,
 * routing snapshots, authentication before a tenant is known). Written as `this.systemWide.…` so
 * that each one stands out in review; everything else a tenant repository does carries the tenant.
 */
export class SystemWideQueries<T> {
  constructor(
    private readonly model: Model<T>,
    /** A deadline of its own for every command (the connection's, without it). */
    private readonly deadline?: { timeoutMs: number },
  ) {}

  async find<P extends keyof T & string = keyof T & string>(
    filter: FilterQuery<T>,
    page?: Partial<PageRequest>,
    /** Only these fields (and `_id`). */
    fields?: readonly P[],
  ): Promise<T[]> {
    let query = this.timed(
      this.model.find(filter, fields ? Object.fromEntries(fields.map((f) => [f, 1])) : undefined),
    );
    if (page?.sort) query = query.sort(page.sort);
    if (page?.offset) query = query.skip(page.offset);
    if (page?.limit) query = query.limit(page.limit);
    return (await query.lean().exec()) as T[];
  }

  async findById(id: string): Promise<T | null> {
    return (await this.timed(this.model.findById(id)).lean().exec()) as T | null;
  }

  count(filter: FilterQuery<T>): Promise<number> {
    return this.timed(this.model.countDocuments(filter)).exec();
  }

  async updateById(id: string, update: UpdateQuery<T>): Promise<void> {
    await this.timed(this.model.updateOne({ _id: id } as FilterQuery<T>, update)).exec();
  }

  /**
   * An update by id alone that answers the document as stored after it (null when there is none),
   * in one statement: on FerretDB v1 a `findAndModify` costs what the update alone does.
   */
  async updateByIdReturning(id: string, update: UpdateQuery<T>): Promise<T | null> {
    return (await this.timed(
      this.model.findOneAndUpdate({ _id: id } as FilterQuery<T>, update, { returnDocument: 'after' }),
    )
      .lean()
      .exec()) as T | null;
  }

  /** How many matched. */
  async updateMany(filter: FilterQuery<T>, update: UpdateQuery<T>): Promise<number> {
    return (await this.timed(this.model.updateMany(filter, update)).exec()).matchedCount;
  }

  async deleteById(id: string): Promise<void> {
    await this.timed(this.model.deleteOne({ _id: id } as FilterQuery<T>)).exec();
  }

  /** How many went. */
  async deleteMany(filter: FilterQuery<T>): Promise<number> {
    return (await this.timed(this.model.deleteMany(filter)).exec()).deletedCount;
  }

  /**
   * A batch by id, each matching `also` too: on MongoDB one statement; on FerretDB v1 one statement
   * per id while they are few, one for all from its profile's `oneStatementFrom` on (`byIds`: there
   * a delete by `_id` is handed to the backend, one by `_id: { $in }` decodes every document, so a
   * sweep's whole batch goes in one scan). How many went.
   */
  deleteByIds(ids: readonly string[], also: ByIdGuard = {}): Promise<number> {
    return this.byIds(ids, also, (filter) => this.deleteMany(filter));
  }

  /** As `deleteByIds`, an update: how many matched. */
  updateByIds(ids: readonly string[], also: ByIdGuard, update: UpdateQuery<T>): Promise<number> {
    return this.byIds(ids, also, (filter) => this.updateMany(filter, update));
  }

  /** The statement of `deleteByIds` or `updateByIds`, with the filters the store needs. */
  private async byIds(
    ids: readonly string[],
    also: ByIdGuard,
    statement: (filter: FilterQuery<T>) => Promise<number>,
  ): Promise<number> {
    if (ids.length === 0) return 0;
    refuseNonStringIds(ids);
    const together = (many: string[]) => statement({ ...also, _id: { $in: many } } as FilterQuery<T>);
    const profile = await profileOf(this.model);
    if (!profile) return together([...ids]);
    return byIds(
      ids,
      (id) => guardedById(id, also, this.byIdReads, (filter) => statement(filter as FilterQuery<T>)),
      together,
      profile.oneStatementFrom,
    );
  }

  /** How a guarded statement by id reads its document first where the store scans (`guardedById`). */
  readonly byIdReads = {
    guardsHandedDown: async () => (await profileOf(this.model))?.guardsHandedDown ?? true,
    read: (id: string) => this.findById(id),
  };

  /**
   * The documents `filter` matches, through one cursor (one scan on FerretDB however many match),
   * handed to `each` up to `batch` at a time, in turn. `each` answering false stops the pass. The
   * deadline, if any, is each batch's (the pass as a whole may take longer), and the cursor is closed
   * however the pass ends.
   */
  async eachBatch<P extends keyof T & string = keyof T & string>(
    filter: FilterQuery<T>,
    batch: number,
    each: (docs: T[]) => Promise<boolean | void>,
    /** Only these fields (and `_id`). */
    fields?: readonly P[],
  ): Promise<void> {
    const cursor = this.model
      .find(filter, fields ? Object.fromEntries(fields.map((f) => [f, 1])) : undefined)
      .setOptions(this.deadline ? { timeoutMS: this.deadline.timeoutMs, timeoutMode: 'iteration' } : {})
      .lean()
      .batchSize(batch)
      .cursor();
    try {
      let docs: T[] = [];
      for (let doc = await cursor.next(); doc !== null; doc = await cursor.next()) {
        docs.push(doc as T);
        if (docs.length >= batch) {
          const go = await each(docs);
          docs = [];
          if (go === false) return;
        }
      }
      if (docs.length > 0) await each(docs);
    } finally {
      await cursor.close();
    }
  }

  /**
   * A range sweep's next slice: at most SWEEP_SLICE of the documents matching `filter` whose `field`
   * (a date) is before `before`, the oldest first, with their ids and a filter that matches exactly
   * them (a range, so that deleting them is one scan on FerretDB, not a comparison of every
   * document with every id); `last` when it holds all that were due. None left: null. Served by an
   * index on `field`. The filter matches what is in the range when it runs: a caller that deletes
   * what belongs to `ids` first (a cascade) relies on nothing being written into a past range, as
   * history is written at the time it happens. `filter` names no condition on `field` (the slice's
   * range takes its place; wrap it in `$and` if it must).
   */
  async dueSlice(
    filter: FilterQuery<T>,
    field: keyof T & string,
    before: Date,
    size = SWEEP_SLICE,
  ): Promise<{ ids: string[]; filter: FilterQuery<T>; last: boolean } | null> {
    const rows = (await this.find(
      { ...filter, [field]: { $lt: before } } as FilterQuery<T>,
      { sort: { [field]: 1 }, limit: size + 1 },
      [field],
    )) as unknown as Array<{ _id: string } & Record<string, Date>>;
    if (rows.length === 0) return null;
    const at = (i: number) => rows[i]![field]!.getTime();
    if (rows.length <= size) {
      const last = new Date(at(rows.length - 1));
      return {
        ids: rows.map((r) => r._id),
        filter: { ...filter, [field]: { $lte: last } } as FilterQuery<T>,
        last: true,
      };
    }
    const bound = at(size);
    const inSlice = rows.filter((_, i) => at(i) < bound);
    if (inSlice.length > 0) {
      return {
        ids: inSlice.map((r) => r._id),
        filter: { ...filter, [field]: { $lt: new Date(bound) } } as FilterQuery<T>,
        last: false,
      };
    }
    // More than a slice share one instant: these by id.
    const ids = rows.slice(0, size).map((r) => r._id);
    return { ids, filter: { _id: { $in: ids } } as FilterQuery<T>, last: false };
  }

  /**
   * Deletes the documents matching `filter` whose `field` is before `before`. How many went. In one
   * statement when nothing is to go first and the store takes it (one scan on FerretDB; at 241,000
   * callback attempts the sorted read that finds a slice took 143 s of a busy store); else, and when
   * the store refuses one that large (FerretDB binds every matched id: over 32,766 fail on SQLite),
   * slice by slice (`dueSlice`), at most `maxSlices` in one call (a backlog drains over a few runs).
   * `beforeEach` runs with each slice's ids before it is deleted (what belongs to them goes first).
   */
  async deleteDue(
    filter: FilterQuery<T>,
    field: keyof T & string,
    before: Date,
    {
      maxSlices = SWEEP_MAX_SLICES,
      sliceSize = SWEEP_SLICE,
      beforeEach,
    }: { maxSlices?: number; sliceSize?: number; beforeEach?: (ids: string[]) => Promise<void> } = {},
  ): Promise<number> {
    if (!beforeEach) {
      try {
        return await this.deleteMany({ $and: [filter, { [field]: { $lt: before } }] } as FilterQuery<T>);
      } catch (err) {
        // Only the store's refusal of one that large goes on in slices; anything else fails the sweep's run.
        if (!isTooManyMatchesError(err)) throw err;
      }
    }
    return this.deleteSlices(filter, field, before, { maxSlices, sliceSize, beforeEach });
  }

  /** `deleteDue`'s slices, one at a time. */
  private async deleteSlices(
    filter: FilterQuery<T>,
    field: keyof T & string,
    before: Date,
    {
      maxSlices,
      sliceSize,
      beforeEach,
    }: { maxSlices: number; sliceSize: number; beforeEach?: (ids: string[]) => Promise<void> },
  ): Promise<number> {
    let deleted = 0;
    for (let n = 0; n < maxSlices; n++) {
      const slice = await this.dueSlice(filter, field, before, sliceSize);
      if (!slice) break;
      await beforeEach?.(slice.ids);
      deleted += await this.deleteMany(slice.filter);
      if (slice.last) break;
    }
    return deleted;
  }

  /**
   * Deletes every document matching `filter`, as `deleteDue` does what is due: in one statement, or
   * slice by slice on `field` when the store refuses one that large. How many went.
   */
  deleteAll(
    filter: FilterQuery<T>,
    field: keyof T & string,
    { maxSlices = SWEEP_MAX_SLICES }: { maxSlices?: number } = {},
  ): Promise<number> {
    // In `$and`: the slices' range on `field` must narrow `filter`, never replace a condition it has on it.
    return this.deleteDue({ $and: [filter] } as FilterQuery<T>, field, END_OF_TIME, { maxSlices });
  }

  /** The query with this deadline, if there is one (the driver's per-operation `timeoutMS`). */
  private timed<Q extends { setOptions(options: { timeoutMS: number }): Q }>(query: Q): Q {
    return this.deadline ? query.setOptions({ timeoutMS: this.deadline.timeoutMs }) : query;
  }
}

/** Later than any date a document holds (JavaScript's last). */
const END_OF_TIME = new Date(8_640_000_000_000_000);

/**
 * A history read's options on `model`: what is left of the request's deadline when it has one (the
 * RPC server sets it for `readsHistory` requests: each command of the request takes what the ones
 * before it left), else HISTORY_READ_ANSWER_MS (outside a request: a read a service makes for itself);
 * the connection's deadline if shorter. At least 1 ms: a request already past its deadline fails at
 * once as "store unavailable".
 */
export function historyReadOptions(model: Pick<Model<unknown>, 'db'>): { timeoutMS: number } {
  const connection = (model.db.getClient().options as { timeoutMS?: number }).timeoutMS;
  const left = msLeftOfRequest() ?? HISTORY_READ_ANSWER_MS;
  return { timeoutMS: Math.max(1, Math.min(connection || Infinity, HISTORY_READ_ANSWER_MS, left)) };
}

/** A history sweep's queries over `model`: every command with HISTORY_SWEEP_TIMEOUT_MS. */
export function historySweepQueries<T>(model: Model<T>): SystemWideQueries<T> {
  return new SystemWideQueries(model, { timeoutMs: HISTORY_SWEEP_TIMEOUT_MS });
}

/**
 * Base for repositories over account-owned documents. The model is the base's alone: queries
 * take a `ScopedFilter`, whose type requires `accountId`, or go through `systemWide`, by name.
 * Results are plain objects (`lean`), never mongoose documents.
 */
export abstract class AccountScopedRepository<T extends AccountScope> {
  readonly #model: Model<T>;
  /** insertUnlessTaken's writes, batched across concurrent callers (made on first use). */
  #inserts: InsertBatcher<T> | undefined;
  protected readonly systemWide: SystemWideQueries<T>;
  /**
   * `systemWide`'s queries for the retention and redaction sweeps of a collection that grows with
   * history, with HISTORY_SWEEP_TIMEOUT_MS as their deadline. Never for what a caller waits on.
   */
  protected readonly systemWideSweeps: SystemWideQueries<T>;
  /** A collection that grows with history: its tenant reads have a history read's deadline. */
  readonly #growsWithHistory: boolean;
  /** An id's document may be written again under another account (see the constructor). */
  readonly #idsChangeAccount: boolean;

  protected constructor(
    model: Model<T>,
    {
      growsWithHistory = false,
      idsChangeAccount = false,
    }: {
      /**
       * The collection grows with history (ended sessions, call steps, attempts): only requests that
       * read history (`readsHistory`) read it, and its reads give up before their callers do.
       */
      growsWithHistory?: boolean;
      /**
       * A document's id may be written again under another account (a phone number another account
       * takes). A statement by id and account then sends its account with it, on every store: never
       * checked on a copy read before (`guardedById`, on FerretDB with SQLite), where a write by the
       * first account landing as the id changed hands would reach the second's document. On SQLite,
       * each such statement is a scan of the collection.
       */
      idsChangeAccount?: boolean;
    } = {},
  ) {
    this.#model = model;
    this.systemWide = new SystemWideQueries(model);
    this.systemWideSweeps = historySweepQueries(model);
    this.#growsWithHistory = growsWithHistory;
    this.#idsChangeAccount = idsChangeAccount;
  }

  /** A statement of one document named by id (and account): `guardedById`, unless ids change account. */
  #byId(filter: ScopedFilter<T>, statement: (f: FilterQuery<T>) => Promise<number>): Promise<number> {
    const byId = this.#idsChangeAccount ? undefined : guardedIdOf(filter);
    return byId ? guardedById(byId.id, byId.guard, this.systemWide.byIdReads, statement) : statement(filter);
  }

  /** Whether every filtered read and count of the store is a scan of the collection (FerretDB v1). */
  protected storeScansReads(): Promise<boolean> {
    return scansReads(this.#model);
  }

  /** Inserts one document (it names its account by type). */
  protected async insertOne(doc: T | Omit<T, 'createdAt' | 'updatedAt'>): Promise<T> {
    return (await this.#model.create(doc)).toObject() as T;
  }

  /** Inserts one document unless a unique index already holds its key: true when it was inserted. */
  protected async insertUnlessTaken(doc: T | Omit<T, 'createdAt' | 'updatedAt'>): Promise<boolean> {
    // Cast, defaulted, validated and timestamped as a create would, then written with the inserts
    // of concurrent callers: one store command (on FerretDB, one SQLite transaction) per batch.
    const prepared = new this.#model(doc);
    await prepared.validate();
    (prepared as unknown as { initializeTimestamps?: () => void }).initializeTimestamps?.();
    this.#inserts ??= new InsertBatcher<T>((docs) => this.insertManyUnordered(docs), STATEMENT_BATCH);
    return (await this.#inserts.insert(prepared.toBSON() as T)) === 'inserted';
  }

  /** Inserts many without stopping at a duplicate: each document's own outcome is in the result. */
  protected insertManyUnordered(docs: T[]) {
    return (
      this.#model.collection as unknown as { insertMany(d: T[], o: { ordered: false }): Promise<unknown> }
    ).insertMany(docs, { ordered: false });
  }

  /** Inserts those not stored yet: a document whose key a unique index holds keeps its first version. */
  protected async insertManyKeepingFirst(docs: T[]): Promise<void> {
    if (docs.length === 0) return;
    try {
      await this.insertManyUnordered(docs);
    } catch (err) {
      if (!isOnlyDuplicateKeyErrors(err)) throw err;
    }
  }

  protected async findOneScoped(filter: ScopedFilter<T>): Promise<T | null> {
    await this.#admit();
    return (await this.#read(this.#model.findOne(filter)).lean().exec()) as T | null;
  }

  /**
   * One document by id, visible only to its account. Looks up by `_id` alone (the one lookup
   * FerretDB pushes down to its storage) and checks the account in code.
   */
  protected async findByIdScoped(scope: AccountScope & Partial<T>, id: string): Promise<T | null> {
    await this.#admit();
    const doc = (await this.#read(this.#model.findById(id)).lean().exec()) as T | null;
    if (!doc) return null;
    for (const [key, value] of Object.entries(scope)) {
      if ((doc as Record<string, unknown>)[key] !== value) return null;
    }
    return doc;
  }

  protected async findScoped(
    filter: ScopedFilter<T>,
    page?: PageRequest,
    /** Only these fields (and `_id`). */
    fields?: readonly (keyof T & string)[],
  ): Promise<T[]> {
    await this.#admit();
    let query = this.#read(
      this.#model.find(filter, fields ? Object.fromEntries(fields.map((f) => [f, 1])) : undefined),
    );
    if (page)
      query = query
        .sort(page.sort ?? { _id: 1 })
        .skip(page.offset)
        .limit(page.limit);
    return (await query.lean().exec()) as T[];
  }

  protected async countScoped(filter: ScopedFilter<T>): Promise<number> {
    await this.#admit();
    return this.#read(this.#model.countDocuments(filter)).exec();
  }

  /**
   * A tenant read, with a history read's deadline if the collection grows with history, or if it
   * is made for a request with a deadline (what is left of it). Admitted first (`#admit`).
   */
  #read<Q extends { setOptions(options: { timeoutMS: number }): Q }>(query: Q): Q {
    return this.#growsWithHistory || msLeftOfRequest() !== undefined
      ? query.setOptions(historyReadOptions(this.#model))
      : query;
  }

  /**
   * Before a tenant read: on a collection that grows with history, the request's admission among
   * the reads of history allowed at once (`admitHistoryRead`), whatever the request: a refusal
   * fails the read with its code. (A query is not returned from an async function: awaiting it runs it.)
   */
  async #admit(): Promise<void> {
    if (this.#growsWithHistory) await admitHistoryRead();
  }

  /** Updates one document of the account; how many matched (0: none of this account's). */
  protected async updateOneScoped(filter: ScopedFilter<T>, update: UpdateQuery<T>): Promise<number> {
    const statement = async (f: FilterQuery<T>) =>
      (await this.#model.updateOne(f, update).exec()).matchedCount;
    return this.#byId(filter, statement);
  }

  /**
   * Documents by id, each within its own account: on MongoDB one statement (an `_id` lookup per
   * clause); on FerretDB v1, per account, one statement per id while they are few, one for all of
   * them from its profile's `oneStatementFrom` on (`byIdsPerAccount`).
   */
  protected async deleteEachScoped(keys: ReadonlyArray<ScopedKey>): Promise<void> {
    await this.#eachScoped(
      keys,
      async (filter) => (await this.#model.deleteMany(filter).exec()).deletedCount,
    );
  }

  /** As `deleteEachScoped`, an update. */
  protected async updateEachScoped(keys: ReadonlyArray<ScopedKey>, update: UpdateQuery<T>): Promise<void> {
    await this.#eachScoped(
      keys,
      async (filter) => (await this.#model.updateMany(filter, update).exec()).matchedCount,
    );
  }

  /** The statement of `deleteEachScoped` or `updateEachScoped`, with the filters the store needs. */
  async #eachScoped(
    keys: ReadonlyArray<ScopedKey>,
    statement: (filter: FilterQuery<T>) => Promise<number>,
  ): Promise<void> {
    if (keys.length === 0) return;
    refuseNonStringIds(keys.map((k) => k._id));
    const profile = await profileOf(this.#model);
    if (!profile || this.#idsChangeAccount) {
      await statement(eachScoped<T>(keys));
      return;
    }
    await byIdsPerAccount(
      keys,
      ({ accountId, _id }) =>
        guardedById(_id, { accountId }, this.systemWide.byIdReads, (filter) =>
          statement(filter as FilterQuery<T>),
        ),
      (accountId, ids) => statement({ accountId, _id: { $in: ids } } as FilterQuery<T>),
      profile.oneStatementFrom,
    );
  }

  protected async deleteScoped(filter: ScopedFilter<T>): Promise<void> {
    const statement = async (f: FilterQuery<T>) => (await this.#model.deleteMany(f).exec()).deletedCount;
    await this.#byId(filter, statement);
  }
}
