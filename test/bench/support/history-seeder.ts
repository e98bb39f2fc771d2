/**
 * Gives a running system the history of `sessions` more sessions, spread over the last `spanMs`,
 * without running them: copies of what the run itself has written to each collection that grows
 * with history, so the shape and the mix (calls, PIN entries and callbacks per session) are the
 * system's own. Each copy gets its own ids (every UUID and 32-hex id is mapped, consistently within a
 * copy, so a copied call step still belongs to its copied session) and its own age; a record of a
 * kind kept only a day is left out past it, as the sweeps would leave it, and an ended session's
 * numbers (kept apart until redaction deletes them) past two days (dead letters, which a soak does
 * not make, are copied as they are). Inserts only: nothing the system wrote is changed.
 */
import { createHash } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { dayPartitionSuffix, packAscending } from '@maskline/persistence';

const { ObjectId } = mongoose.mongo;
type Document = mongoose.mongo.Document;

const DAY = 24 * 3600_000;
/** The redaction period of the run's services (`PARTY_REDACTION_AFTER_HOURS`' default). */
export const REDACTED_AFTER_MS = DAY;
const INSERT_BATCH = 1000;
/**
 * Past days' tallies of ended sessions, for lists' counts (session-service's `EndedSessionTallies`,
 * whose document shape `keepTallies` writes, each group's starts packed as the service packs them:
 * a list whose dates cut through a seeded day counts it from them, as it would a day the sweeps
 * tallied, up to the service's 100,000 starts an account-day): the sweeps make each
 * day's three hours after it ends, so a history that reached this run has them for every day
 * before it. Made here for the seeded days.
 */
const TALLIES = 'ended_session_tallies';
/** session-service's TALLY_STARTS_MAX: past it in a day, none of an account's groups keeps starts. */
const TALLY_STARTS_MAX = 100_000;
const TALLIED = 'ended_sessions';

/** One account's or subaccount's sessions of a day (a Proxy session is not counted). */
interface Tally {
  accountId: string;
  subaccountId: string | null;
  count: number;
  firstCreatedAt: Date;
  lastCreatedAt: Date;
  /** Every start, in ms (packed when written). */
  starts: number[];
}

function tallyInto(tallies: Map<string, Map<string, Tally>>, day: string, doc: Document): void {
  if (doc.proxy !== undefined) return;
  const createdAt = doc.createdAt as Date;
  const subaccountId = (doc.subaccountId as string | null | undefined) ?? null;
  const key = JSON.stringify([doc.accountId, subaccountId]);
  const ofDay = tallies.get(day) ?? new Map<string, Tally>();
  tallies.set(day, ofDay);
  const t = ofDay.get(key);
  if (!t) {
    ofDay.set(key, {
      accountId: String(doc.accountId),
      subaccountId,
      count: 1,
      firstCreatedAt: createdAt,
      lastCreatedAt: createdAt,
      starts: [createdAt.getTime()],
    });
    return;
  }
  t.count++;
  t.starts.push(createdAt.getTime());
  if (createdAt < t.firstCreatedAt) t.firstCreatedAt = createdAt;
  if (createdAt > t.lastCreatedAt) t.lastCreatedAt = createdAt;
}

/** How long after its day ends the sweeps tally a day (session-service's `TALLY_AFTER_DAY_MS`). */
const TALLY_AFTER_DAY_MS = 3 * 3_600_000;

/**
 * The tallies of the seeded days the sweeps would have tallied by `seededAt` (three hours after the
 * day), but those that hold the run's own sessions (`runDays`, left to the sweeps): each account's
 * document, then the day's, in place of any made of the day before. The soak's sweeps run only at
 * its end, so nothing else writes them meanwhile; a duplicate is ignored all the same.
 */
async function keepTallies(
  db: mongoose.mongo.Db,
  tallies: Map<string, Map<string, Tally>>,
  seededAt: number,
  runDays: ReadonlySet<string>,
): Promise<void> {
  const days = [...tallies.keys()].filter(
    (day) => !runDays.has(day) && dayEnd(day) + TALLY_AFTER_DAY_MS <= seededAt,
  );
  const collection = db.collection(TALLIES);
  await collection.deleteMany({ day: { $in: days } });
  const talliedAt = new Date();
  const insert = async (docs: Document[]) => {
    try {
      await collection.insertMany(docs, { ordered: false });
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
    }
  };
  for (const day of days) {
    const byAccount = new Map<string, Array<Omit<Tally, 'starts'> & { starts?: string }>>();
    const sessions = new Map<string, number>();
    for (const t of tallies.get(day)!.values())
      sessions.set(t.accountId, (sessions.get(t.accountId) ?? 0) + t.count);
    for (const t of tallies.get(day)!.values()) {
      const starts =
        sessions.get(t.accountId)! <= TALLY_STARTS_MAX
          ? packAscending(t.starts.sort((a, b) => a - b))
          : undefined;
      byAccount.set(t.accountId, [...(byAccount.get(t.accountId) ?? []), { ...t, starts }]);
    }
    const docs = [...byAccount].map(([accountId, groups]) => ({
      _id: `${day}:${accountId}`,
      day,
      groups,
      tooMany: false,
      talliedAt,
    }));
    if (docs.length > 0) await insert(docs);
    await insert([{ _id: day, day, groups: [], tooMany: false, talliedAt }]);
  }
}

/** The end of a day's collection's day (`<name>_<yyyymmdd>`). */
function dayEnd(name: string): number {
  const m = /_(\d{4})(\d{2})(\d{2})$/.exec(name)!;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + DAY;
}

interface HistoryCollection {
  db: string;
  collection: string;
  /** Kept only this long after it was written (older copies are left out, as the sweeps would). */
  keptMs?: number;
  /** Kept one collection per UTC day of this date field (`<collection>_<yyyymmdd>`, `DayPartitions`). */
  byDay?: string;
}

/** Every collection that grows with sessions ended, calls made and callbacks sent. */
const HISTORY: HistoryCollection[] = [
  { db: 'session_service', collection: 'ended_sessions', byDay: 'expiredAt' },
  // Sessions that lived longer than a day (none in a soak, copied all the same).
  { db: 'session_service', collection: 'long_lived_sessions' },
  // Numbers kept apart: the redaction period's, and a day past it that the redaction sweep must delete.
  { db: 'session_service', collection: 'ended_session_parties', keptMs: 2 * REDACTED_AFTER_MS },
  { db: 'session_service', collection: 'call_events', byDay: 'at' },
  { db: 'session_service', collection: 'allocation_fates', keptMs: DAY },
  { db: 'callback_dispatcher', collection: 'callback_attempts', byDay: 'at' },
  { db: 'callback_dispatcher', collection: 'dead_letters' },
  { db: 'pin_auth', collection: 'pin_attempts', byDay: 'at' },
];

/** Histories kept one collection per day, by the date field named (counted across their days). */
export const BY_DAY: Record<string, string | undefined> = Object.fromEntries(
  HISTORY.filter((h) => h.byDay).map((h) => [h.collection, h.byDay]),
);

const ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-fA-F]{32}\b/g;

/** The same id in copy `copy`: a different one, the same wherever it appears in that copy. */
function mappedId(id: string, copy: number): string {
  const hex = createHash('sha256').update(`${copy}:${id.toLowerCase()}`).digest('hex');
  if (id.includes('-')) {
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
  return id === id.toUpperCase() ? hex.slice(0, 32).toUpperCase() : hex.slice(0, 32);
}

function copied(value: unknown, copy: number, agedMs: number): unknown {
  if (typeof value === 'string') return value.replace(ID, (id) => mappedId(id, copy));
  if (value instanceof Date) return new Date(value.getTime() - agedMs);
  if (value instanceof ObjectId) return new ObjectId();
  if (Array.isArray(value)) return value.map((v) => copied(v, copy, agedMs));
  if (value && typeof value === 'object' && value.constructor === Object) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copied(v, copy, agedMs)]));
  }
  return value;
}

export interface SeedReport {
  copies: number;
  inserted: Record<string, number>;
  ms: number;
}

/**
 * Seeds `sessions` sessions' worth of history into the databases under `prefix`, the oldest of it
 * `spanMs` old (past the retention period, it is the sweeps' to delete).
 */
export async function seedHistory(
  store: Connection,
  prefix: string,
  sessions: number,
  spanMs: number,
): Promise<SeedReport> {
  const t0 = Date.now();
  const dbOf = (db: string) => store.useDb(`${prefix}_${db}`, { useCache: true }).db!;
  // What the sessions that have ended left (a live session's calls and callbacks are not history
  // yet: copied with the ended ones, they would skew the mix).
  const endedDocs: Document[] = [];
  /** The days that hold the run's own ended sessions (left to the sweeps to tally). */
  const runDays = new Set<string>();
  for (const name of await collectionsOf(dbOf(HISTORY[0]!.db), HISTORY[0]!)) {
    const docs = await dbOf(HISTORY[0]!.db).collection(name).find({}).toArray();
    if (docs.length > 0) runDays.add(name);
    endedDocs.push(...docs);
  }
  if (endedDocs.length === 0) throw new Error('seeding history: the run has ended no session yet to copy');
  const ended = new Set(endedDocs.map((d) => String(d._id)));
  const ofEnded = (d: Document) =>
    !('sessionId' in d) || d.sessionId === null || ended.has(String(d.sessionId));
  const originals = new Map<HistoryCollection, Document[]>();
  for (const h of HISTORY) {
    const docs: Document[] = [];
    for (const name of await collectionsOf(dbOf(h.db), h)) {
      docs.push(...(await dbOf(h.db).collection(name).find({}).toArray()).filter(ofEnded));
    }
    originals.set(h, docs);
  }
  const copies = Math.ceil(sessions / ended.size);
  const inserted: Record<string, number> = {};
  const tallies = new Map<string, Map<string, Tally>>();
  for (const h of HISTORY) {
    const docs = originals.get(h)!;
    // A batch per target collection: one, or one per day.
    const batches = new Map<string, Document[]>();
    let count = 0;
    const flush = async (name: string) => {
      const batch = batches.get(name) ?? [];
      if (batch.length === 0) return;
      await dbOf(h.db).collection(name).insertMany(batch, { ordered: false });
      count += batch.length;
      batches.set(name, []);
    };
    for (let copy = 1; copy <= copies; copy++) {
      // Copy k is k/copies of the span old, so the copies are spread evenly over it.
      const agedMs = Math.round((copy / copies) * spanMs);
      if (h.keptMs !== undefined && agedMs > h.keptMs) continue;
      for (const doc of docs) {
        const copy_ = copied(doc, copy, agedMs) as Document;
        // An id made of no UUID (a delivered callback's record, `<event id>:delivered`) gets the copy's mark.
        if (typeof doc._id === 'string' && copy_._id === doc._id) copy_._id = `${doc._id}~${copy}`;
        const name = h.byDay ? `${h.collection}_${dayPartitionSuffix(copy_[h.byDay] as Date)}` : h.collection;
        if (h.collection === TALLIED) tallyInto(tallies, name, copy_);
        const batch = batches.get(name) ?? [];
        batch.push(copy_);
        batches.set(name, batch);
        if (batch.length >= INSERT_BATCH) await flush(name);
      }
    }
    for (const name of batches.keys()) await flush(name);
    inserted[h.collection] = count;
  }
  await keepTallies(dbOf('session_service'), tallies, t0, runDays);
  return { copies, inserted, ms: Date.now() - t0 };
}

/** The collections a history kind is kept in: its own, and for one kept by day, each day's. */
export async function collectionsOf(
  db: mongoose.mongo.Db,
  h: { collection: string; byDay?: string },
): Promise<string[]> {
  if (!h.byDay) return [h.collection];
  const days = new RegExp(`^${h.collection}_\\d{8}$`);
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
  return [h.collection, ...names.filter((n) => days.test(n))];
}
