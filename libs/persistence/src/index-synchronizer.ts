import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection, Model, mongo } from 'mongoose';
import type { Logger } from 'pino';
import { HealthRegistry, LOGGER } from '@maskline/observability';
import { isStoreUnavailableError } from './mongo-errors';

/**
 * Codes of a build the store broke off for a moment (interrupted, a time limit, a primary stepping
 * down or shutting down): tried again, it may succeed. Anything else (duplicates under a unique
 * index, conflicting options, bad values, authorisation) stops the boot at once.
 */
const TRANSIENT_CODES = new Set([50, 91, 189, 262, 10107, 11600, 11601, 11602, 13435]);

/** A build failure worth trying again: the store unreachable or broke it off (FerretDB: "interrupted"). */
function isTransient(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return (
    isStoreUnavailableError(err) ||
    (typeof code === 'number' && TRANSIENT_CODES.has(code)) ||
    (typeof message === 'string' && /\binterrupted\b/i.test(message))
  );
}

/** Waits between tries of a build that failed for a moment: about 15 s in all. */
export const INDEX_BUILD_RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

/**
 * Builds every registered model's indexes at boot, with no deadline (`buildIndexes`). A build the
 * store broke off for a moment (unreachable, interrupted, a primary stepping down) is tried again
 * after INDEX_BUILD_RETRY_DELAYS_MS, so a replica does not die on a store that is busy or failing
 * over; one that can never succeed, or still fails after the last wait, stops the boot with the
 * reason. (In a chaos run FerretDB answered a restarting replica "interrupted (9)": the build had
 * been sent with the connection's 3 s deadline as `maxTimeMS`, and the store was busy.)
 */
@Injectable()
export class IndexSynchronizer implements OnModuleInit {
  constructor(
    @InjectConnection() private readonly connection: Connection,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly health: HealthRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    this.health.register('store', async () => {
      const db = this.connection.db;
      if (!db) return { status: 'down', detail: 'not connected' };
      await db.admin().ping();
      return { status: 'up' };
    });
    for (const model of Object.values(this.connection.models)) await this.build(model);
    this.logger.info({ models: Object.keys(this.connection.models) }, 'store indexes ready');
  }

  private async build(model: Model<unknown>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await buildIndexes(model);
        return;
      } catch (err) {
        const wait = INDEX_BUILD_RETRY_DELAYS_MS[attempt];
        if (wait === undefined || !isTransient(err)) {
          this.logger.fatal({ err, model: model.modelName }, 'could not build indexes');
          throw err;
        }
        this.logger.warn(
          { err, model: model.modelName, retryInMs: wait },
          'index build failed; trying again',
        );
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }
}

/**
 * The collection and its schema's indexes, with no deadline: an index build on a large collection
 * may take longer than any one command is otherwise allowed (STORE_COMMAND_TIMEOUT_MS). Through the
 * driver, as mongoose's `createIndexes` and `createCollection` send the connection's deadline as
 * `maxTimeMS` whatever they are given (seen on the wire): a build past it was interrupted by the
 * store, and the boot failed.
 *
 * On FerretDB only what is missing is sent: a restarting replica finds everything in place and sends
 * no `create` or `createIndexes` at all, as each of those is a write to the store's catalogue that
 * waits for (and then holds) its write lock, so a rolling restart during a long sweep made every
 * replica queue behind the sweep and the hot path queue behind the replicas. Its builds finish within
 * their command, so what `listIndexes` shows is built. On MongoDB every index is sent: `listIndexes`
 * also shows builds in progress (another replica's, which may yet fail on duplicates), and a
 * `createIndexes` of a built one is a no-op there, of one being built waits for it.
 */
export async function buildIndexes(model: Model<unknown>): Promise<void> {
  const unbounded = { timeoutMS: 0 } as Record<string, unknown>;
  const db = model.db.db;
  if (!db) throw new Error('the store connection is not open');
  const name = model.collection.collectionName;
  const found = await db.listCollections({ name }, { nameOnly: true, ...unbounded }).toArray();
  if (found.length === 0) {
    await db.createCollection(name, unbounded).catch((err: { codeName?: string; code?: number }) => {
      if (err?.codeName !== 'NamespaceExists' && err?.code !== 48) throw err;
    });
  }
  const present =
    found.length === 0 || !(await isFerretDb(db)) ? [] : await model.collection.indexes(unbounded);
  for (const [fields, options] of model.schema.indexes()) {
    if (present.some((index) => isSameIndex(index, fields, options))) continue;
    await model.collection.createIndex(
      fields as mongo.IndexSpecification,
      { ...options, ...unbounded } as mongo.CreateIndexesOptions,
    );
  }
}

const ferretDb = new WeakMap<object, Promise<boolean>>();

/**
 * Whether the store is FerretDB (its `buildInfo` says so), asked once per connection: where every
 * filtered read and count is a scan, and a read that answers two questions saves one.
 */
export function isFerretDb(db: mongo.Db): Promise<boolean> {
  const client = db.client as object;
  let answer = ferretDb.get(client);
  if (!answer) {
    answer = db
      .admin()
      .command({ buildInfo: 1 })
      .then((info) => 'ferretdbVersion' in info);
    ferretDb.set(client, answer);
    answer.catch(() => ferretDb.delete(client));
  }
  return answer;
}

/** Options that make two indexes on the same keys different indexes (a change of one is sent, and the store decides). */
const DEFINING_OPTIONS = [
  'unique',
  'sparse',
  'expireAfterSeconds',
  'partialFilterExpression',
  'name',
] as const;

/**
 * True when the store already has this index: the same keys in the same order with the same defining
 * options (a name only when the schema gives one). Anything else is sent to the store, which builds it
 * or refuses a conflict, and the boot stops with the reason as before.
 */
export function isSameIndex(
  existing: Record<string, unknown>,
  fields: Record<string, unknown>,
  options: Record<string, unknown>,
): boolean {
  const key = existing.key as Record<string, unknown> | undefined;
  if (!key || JSON.stringify(Object.entries(key)) !== JSON.stringify(Object.entries(fields))) return false;
  return DEFINING_OPTIONS.every((option) => {
    if (option === 'name' && options.name === undefined) return true;
    const wanted = option === 'unique' || option === 'sparse' ? Boolean(options[option]) : options[option];
    const has = option === 'unique' || option === 'sparse' ? Boolean(existing[option]) : existing[option];
    return JSON.stringify(wanted) === JSON.stringify(has);
  });
}
