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
const UNREACHABLE =
  /MongoNetwork|MongoServerSelection|MongoNotConnected|MongoTopologyClosed|PoolClosed|MongoPoolCleared|MongoServerClosed|MongoClientClosed/;
/** The driver's deadline for a command (`timeoutMS`): the store answered too slowly, or not at all. */
const OPERATION_TIMEOUT = /MongoOperationTimeout/;
/**
 * MongoDB's codes for a replica set without a primary for the moment, or a node going away (a
 * failover, a step-down, a shutdown): HostUnreachable, HostNotFound, NetworkTimeout,
 * ShutdownInProgress, PrimarySteppedDown, SocketException, NotWritablePrimary,
 * InterruptedAtShutdown, InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk,
 * NotPrimaryOrSecondary.
 */
const FAILOVER_CODES = new Set([6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436]);

/** MongoDB's MaxTimeMSExpired: the server ended the command at the deadline it was sent with. */
const MAX_TIME_MS_EXPIRED = 50;
/**
 * CursorNotFound: the store dropped the cursor a read was paging through (FerretDB v1 drops it when
 * the read's maxTimeMS passes, MongoDB after a cursor's idle timeout). Reading again works.
 */
const CURSOR_NOT_FOUND = 43;
/** MongoDB's InternalError code, which FerretDB v1 gives every error it has no code for. */
const INTERNAL_ERROR = 1;
/**
 * FerretDB v1 ends a command at its deadline (`maxTimeMS`, which the driver sends from the command
 * timeout) by cancelling its SQL statement, and reports a statement cancelled mid-run as an
 * InternalError: "interrupted (9)" on SQLite, a cancelled statement or context on PostgreSQL.
 * Seen right after a paused store resumed, on finds, updates and inserts alike. A statement that
 * waited out SQLite's busy timeout (10 s) for the write lock is reported the same way.
 */
const INTERRUPTED_AT_DEADLINE =
  /interrupted \(9\)|context canceled|context deadline exceeded|canceling statement due to user request|database is locked/;

type DriverError = {
  name?: string;
  code?: unknown;
  message?: unknown;
  errorResponse?: unknown;
  cause?: unknown;
} | null;

/**
 * True when the store could not be reached or did not answer in time (network, server selection, a
 * failover, the command deadline, on the client's side or the store's): worth retrying later. A
 * write that timed out may still have happened. A batch write carries the driver's error inside
 * (`errorResponse`), so that is looked at too.
 */
export function isStoreUnavailableError(err: unknown, depth = 0): boolean {
  const e = err as DriverError;
  if (!e || typeof e !== 'object' || depth > 3) return false;
  if (isStoreUnreachableError(e) || OPERATION_TIMEOUT.test(e.name ?? '')) return true;
  // The store's own codes, only on the driver's errors (another error's numeric code means nothing here).
  if (/^Mongo/.test(e.name ?? '')) {
    if (e.code === MAX_TIME_MS_EXPIRED || e.code === CURSOR_NOT_FOUND) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (e.code === INTERNAL_ERROR && INTERRUPTED_AT_DEADLINE.test(message)) return true;
  }
  return (
    (e.errorResponse instanceof Error && isStoreUnavailableError(e.errorResponse, depth + 1)) ||
    (e.cause instanceof Error && isStoreUnavailableError(e.cause, depth + 1))
  );
}

/**
 * True when the store could not be reached at all (network, server selection, a replica set
 * between primaries, a node shutting down), not merely slow: a command that ran out of its deadline
 * may have been slow for what it was asked (one tenant's data), and is not this.
 */
export function isStoreUnreachableError(err: unknown, depth = 0): boolean {
  const e = err as DriverError;
  if (!e || typeof e !== 'object' || depth > 3) return false;
  if (UNREACHABLE.test(e.name ?? '') || e instanceof mongo.MongoNetworkError) return true;
  if (/^Mongo/.test(e.name ?? '') && typeof e.code === 'number' && FAILOVER_CODES.has(e.code)) return true;
  return (
    (e.errorResponse instanceof Error && isStoreUnreachableError(e.errorResponse, depth + 1)) ||
    (e.cause instanceof Error && isStoreUnreachableError(e.cause, depth + 1))
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
