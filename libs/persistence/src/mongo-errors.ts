/** True when a write hit a unique index: the one race-safe arbiter on both MongoDB and FerretDB. */
export function isDuplicateKeyError(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: Array<{ code?: number }> } | null;
  if (!e) return false;
  if (e.code === 11000) return true;
  // FerretDB (SQLite) reports a unique violation caused by an update as an InternalError.
  if (/UNIQUE constraint failed|E11000/.test((e as { message?: string }).message ?? '')) return true;
  return Array.isArray(e.writeErrors) && e.writeErrors.some((w) => w.code === 11000);
}

/** True when the store could not be reached (network, server selection): worth retrying later. */
export function isStoreUnavailableError(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name ?? '';
  return /MongoNetwork|MongoServerSelection|MongoNotConnected|MongoTopologyClosed|PoolClosed/.test(name);
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
