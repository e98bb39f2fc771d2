import type { mongo } from 'mongoose';
import { ONE_STATEMENT_FROM } from './by-id-statements';
import { isFerretDb } from './index-synchronizer';

/**
 * How to send statements that name documents by id to a store whose every filtered statement is a
 * scan (FerretDB v1), by what its backend hands down with the scan. MongoDB serves them all from
 * its indexes: no profile (null), and a batch is always one statement.
 */
export interface ScanProfile {
  /**
   * The other fields of a filter by `_id` go down with it, so a guard (`{ _id, accountId }`) costs
   * what the `_id` alone does (PostgreSQL: `_jsonb->field @> value` for each). On SQLite only a
   * filter of `_id` alone is handed down, and a guarded statement reads its document first.
   */
  guardsHandedDown: boolean;
  /** From how many ids one statement names them together (`_id: { $in }`, never handed down). */
  oneStatementFrom: number;
}

/** FerretDB v1.24.2 on SQLite (`ONE_STATEMENT_FROM`, measured there). */
export const SQLITE_SCAN_PROFILE: ScanProfile = {
  guardsHandedDown: false,
  oneStatementFrom: ONE_STATEMENT_FROM,
};

/**
 * FerretDB v1.24.2 on PostgreSQL. `_id: { $in }` decodes every document of the collection in
 * FerretDB, while each statement by `_id` is PostgreSQL's own scan: measured 2026-12-02 at 3,000
 * session-sized documents (`npm run bench:store -- --docs 3000 --backend postgresql`), 32 updates
 * by `_id` cost 111 ms of store CPU, one update of the 32 by `$in` 405 ms, a delete 52 against 361.
 * A statement by id costs about 3.5 ms there and `$in` about 0.13 ms per document stored, so one
 * statement pays from about a thirtieth of the collection's size in ids (a hundred at 3,000): the
 * batches of the hot paths (tens of ids, to collections of what is live) go one by one, a sweep's
 * thousands to the history together.
 */
export const POSTGRESQL_SCAN_PROFILE: ScanProfile = {
  guardsHandedDown: true,
  oneStatementFrom: 100,
};

const known = new WeakMap<object, Promise<ScanProfile | null | undefined>>();

/**
 * The store's profile, asked once per client of a collection that exists: `explain` of a filter on a
 * field other than `_id` says whether the backend was handed it (`filterPushdown`). Until a
 * collection exists to ask on (FerretDB explains nothing of a collection it has not made), or when
 * the store does not answer the question, SQLite's, which is right on either backend, only slower on
 * PostgreSQL; the question is then asked again next time.
 */
export function scanProfile(db: mongo.Db, collection: string): Promise<ScanProfile | null> {
  const client = db.client as object;
  let answer = known.get(client);
  if (!answer) {
    answer = ask(db, collection);
    known.set(client, answer);
    void answer.then(
      (profile) => profile === undefined && known.delete(client),
      () => known.delete(client),
    );
  }
  return answer.then((profile) => (profile === undefined ? SQLITE_SCAN_PROFILE : profile));
}

/** The profile, or undefined when this collection cannot tell yet. */
async function ask(db: mongo.Db, collection: string): Promise<ScanProfile | null | undefined> {
  if (!(await isFerretDb(db))) return null;
  let explained: { queryPlanner?: object; filterPushdown?: boolean };
  try {
    explained = await db.command({
      explain: { find: collection, filter: { scanProfileProbe: 'x' } },
      verbosity: 'queryPlanner',
    });
  } catch {
    return undefined;
  }
  if (!explained.queryPlanner || Object.keys(explained.queryPlanner).length === 0) return undefined;
  return explained.filterPushdown === true ? POSTGRESQL_SCAN_PROFILE : SQLITE_SCAN_PROFILE;
}
