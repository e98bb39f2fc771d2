/**
 * How many documents one statement must name before it names them together (`_id: { $in: [...] }`)
 * rather than one statement per document (`_id: id`).
 *
 * On FerretDB v1.24.2 (SQLite), measured 2026-12-01 with 10,000 documents, the targets last in the
 * table: a find, update or delete by `_id` took 58, 114 and 58 ms (SQLite is given the `_id` and
 * scans without decoding); the same statements by `_id: { $in }` took 757, 720 and 708 ms, whatever
 * the number of ids (every document decoded and compared), and an `$or` of twenty `{ _id, accountId }`
 * clauses 2,527 ms. So a batch of a few ids costs 6–13 times more as one statement than as one per
 * id. MongoDB serves both from the `_id` index: a few more round trips below this size.
 */
export const ONE_STATEMENT_FROM = 12;

/**
 * Runs a statement on documents named by id: one per id (concurrently) while they are few, one for
 * all of them (`together`) from ONE_STATEMENT_FROM on. Answers the sum of what the statements count
 * (matched, deleted).
 */
export async function byIds<K>(
  keys: readonly K[],
  each: (key: K) => Promise<number>,
  together: (keys: K[]) => Promise<number>,
): Promise<number> {
  if (keys.length === 0) return 0;
  if (keys.length >= ONE_STATEMENT_FROM) return together([...keys]);
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
): Promise<number> {
  const byAccount = new Map<string, K[]>();
  for (const key of keys) {
    const group = byAccount.get(key.accountId);
    if (group) group.push(key);
    else byAccount.set(key.accountId, [key]);
  }
  const counts = await Promise.all(
    [...byAccount].map(([accountId, group]) =>
      byIds(group, each, (many) =>
        together(
          accountId,
          many.map((k) => k._id),
        ),
      ),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}
