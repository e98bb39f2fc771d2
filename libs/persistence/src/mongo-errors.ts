import { mongo } from 'mongoose';

/** True when a write hit a unique index: the one race-safe arbiter on both MongoDB and FerretDB. */
export function isDuplicateKeyError(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: Array<{ code?: number }> } | null;
  if (!e) return false;
  if (e.code === 11000) return true;
  // FerretDB (SQLite) reports a unique violation caused by an update as an InternalError.
  if (/UNIQUE constraint failed|E11000/.test((e as { message?: string }).message ?? '')) return true;
  return Array.isArray(e.writeErrors) && e.writeErrors.some((w) => w.code === 11000);
}

/**
 * The driver's errors for a store it could not reach or that did not answer, by name (the driver
 * names its classes; `MongoPoolClearedError` is a network error named otherwise, seen when a paused
 * store resumes and the driver clears its pool under the commands waiting on it).
 */
const UNAVAILABLE =
  /MongoNetwork|MongoServerSelection|MongoNotConnected|MongoTopologyClosed|PoolClosed|MongoPoolCleared|MongoServerClosed|MongoClientClosed|MongoOperationTimeout/;

/**
 * True when the store could not be reached or did not answer in time (network, server selection, the
 * command deadline): worth retrying later. A write that timed out may still have happened. A batch
 * write carries the driver's error inside (`errorResponse`), so that is looked at too.
 */
export function isStoreUnavailableError(err: unknown, depth = 0): boolean {
  const e = err as { name?: string; errorResponse?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object' || depth > 3) return false;
  if (UNAVAILABLE.test(e.name ?? '') || e instanceof mongo.MongoNetworkError) return true;
  return (
    (e.errorResponse instanceof Error && isStoreUnavailableError(e.errorResponse, depth + 1)) ||
    (e.cause instanceof Error && isStoreUnavailableError(e.cause, depth + 1))
  );
}

/** True when every document a batch insert refused was refused by a unique index (the rest went in). */
export function isOnlyDuplicateKeyErrors(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: Array<{ code?: number }> | { code?: number } } | null;
  if (!e) return false;
  const writeErrors =
    e.writeErrors === undefined ? [] : ([] as Array<{ code?: number }>).concat(e.writeErrors);
  if (writeErrors.length === 0) return isDuplicateKeyError(err);
  return writeErrors.every((w) => w.code === 11000);
}

/**
 * True when the store refused a statement for how many documents it matched: FerretDB v1 binds every
 * matched `_id` in one SQL statement ("too many SQL variables" on SQLite past 32,766; "extended
 * protocol limited to 65535 parameters" on PostgreSQL). MongoDB has no such limit.
 */
export function isTooManyMatchesError(err: unknown): boolean {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && /too many SQL variables|limited to 65535 parameters/i.test(message);
}
