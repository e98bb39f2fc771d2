/**
 * How many documents one statement must name before it names them together (`_id: { $in: [...] }`)
 * rather than one statement per document (`_id: id`), on FerretDB's SQLite backend (`ScanProfile`).
 *
 * On FerretDB v1.24.2 (SQLite), measured 2026-12-01 with 10,000 documents, the targets last in the
 * table: a find, update or delete by `_id` alone took 58, 114 and 58 ms (SQLite is given the `_id`
 * and scans without decoding); the same statements by `_id: { $in }` took 757, 720 and 708 ms,
 * whatever the number of ids (every document decoded and compared), and an `$or` of twenty
 * `{ _id, accountId }` clauses 2,527 ms. A statement guarded by its account (`guardedById`) costs
 * two by-id statements there. On MongoDB, which serves all of them from its indexes, a batch is
 * always one statement.
 */
export const ONE_STATEMENT_FROM = 8;

/** What a statement by id may also require of its document: fields equal to these values. */
export type ByIdGuard = Readonly<Record<string, string | number | boolean | null>>;

/**
 * Fields a document never changes once written: a guard on them alone may be checked on a copy read
 * before the statement. An account's documents stay its own; a state (`status: 'active'`) does not
 * stay put, and an id may be deleted and written again with other fields (a name's, a claim's).
 */
const NEVER_CHANGED = new Set(['accountId']);

/**
 * One document's statement by id, sent only if the document also matches `guard`. FerretDB v1 hands
 * SQLite the `_id` only of a filter that names `_id` alone; with any other field beside it, it
 * decodes and compares every document of the collection (3,000 documents: a delete by `_id` 23 ms,
 * by `{ accountId, _id }` 285 ms). So there, when the guard names only fields a document never
 * changes (its account), the document is read by `_id`, the guard checked here, and the statement
 * sent by `_id` alone: what the read found still holds when the statement lands. Any other guard
 * goes in the statement, as on a store that serves filters from indexes (MongoDB), where it is
 * atomic, and on one that hands the guard down with the `_id` (FerretDB on PostgreSQL).
 */
export async function guardedById<T>(
  id: string,
  guard: ByIdGuard,
  store: {
    /** The store serves the statement with its guard as cheaply as by `_id` alone (`ScanProfile`). */
    guardsHandedDown(): Promise<boolean>;
    read(id: string): Promise<T | null>;
  },
  statement: (filter: Record<string, unknown>) => Promise<number>,
): Promise<number> {
  // An operator in place of an id would reach documents the guard is not sent with.
  if (typeof id !== 'string') throw new TypeError('a statement by id takes a string id');
  if (Object.keys(guard).length === 0) return statement({ _id: id });
  if (!Object.keys(guard).every((field) => NEVER_CHANGED.has(field)) || (await store.guardsHandedDown())) {
    return statement({ ...guard, _id: id });
  }
  const doc = (await store.read(id)) as Record<string, unknown> | null;
  if (!doc || Object.entries(guard).some(([field, value]) => (doc[field] ?? null) !== value)) return 0;
  return statement({ _id: id });
}

/**
 * A filter that names one document by a string `_id` and requires only equal values of other fields
 * (`{ _id, accountId, status: 'active' }`), as `guardedById` takes it; undefined for any other
 * filter (an operator, a date, a sub-document), which goes to the store as it is.
 */
export function guardedIdOf(filter: object): { id: string; guard: ByIdGuard } | undefined {
  const { _id: id, ...rest } = filter as Record<string, unknown>;
  if (typeof id !== 'string') return undefined;
  const guard: Record<string, string | number | boolean | null> = {};
  for (const [field, value] of Object.entries(rest)) {
    // An operator, or a path into a sub-document: not a field of the document's own.
    if (field.startsWith('$') || field.includes('.')) return undefined;
    if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) return undefined;
    guard[field] = value as string | number | boolean | null;
  }
  return { id, guard };
}

/**
 * Runs a statement on documents named by id: one per id (concurrently) while they are few, one for
 * all of them (`together`) from `oneStatementFrom` on (SQLite's ONE_STATEMENT_FROM unless told).
 * Answers the sum of what the statements count (matched, deleted).
 */
export async function byIds<K>(
  keys: readonly K[],
  each: (key: K) => Promise<number>,
  together: (keys: K[]) => Promise<number>,
  oneStatementFrom = ONE_STATEMENT_FROM,
): Promise<number> {
  if (keys.length === 0) return 0;
  if (keys.length >= oneStatementFrom) return together([...keys]);
  const counts = await Promise.all(keys.map(each));
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * As `byIds`, for keys of several accounts: each account's ids go as `byIds` does, so a statement
 * for many names its account and its ids (`{ accountId, _id: { $in } }`), never an `$or` of
 * `{ accountId, _id }` pairs (the slowest shape of all on FerretDB).
 */
export async function byIdsPerAccount<K extends { accountId: string; _id: string }>(
  keys: readonly K[],
  each: (key: K) => Promise<number>,
  together: (accountId: string, ids: string[]) => Promise<number>,
  oneStatementFrom = ONE_STATEMENT_FROM,
): Promise<number> {
  const byAccount = new Map<string, K[]>();
  for (const key of keys) {
    const group = byAccount.get(key.accountId);
    if (group) group.push(key);
    else byAccount.set(key.accountId, [key]);
  }
  const counts = await Promise.all(
    [...byAccount].map(([accountId, group]) =>
      byIds(
        group,
        each,
        (many) =>
          together(
            accountId,
            many.map((k) => k._id),
          ),
        oneStatementFrom,
      ),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}
