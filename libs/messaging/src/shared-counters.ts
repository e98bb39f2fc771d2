import { randomInt } from 'node:crypto';
import type { KV, KvEntry } from 'nats';
import {
  KeyValueStores,
  fromKvToken,
  isWrongLastSequence,
  kvDecode,
  kvEncode,
  kvToken,
} from './key-value-stores';

/** Compare-and-set tries before a write under contention gives up (each a read and a write). */
const CAS_TRIES = 20;
/** How long listing a bucket's keys may take before it is given up. */
const KEY_LISTING_MS = 30_000;
/** The longest pause between two tries (jittered, growing from 1 ms): writers racing spread out. */
const CAS_PAUSE_MAX_MS = 50;

/**
 * A counter as stored: its value, with how much was ever taken away (`g`) and which recount set it
 * last (`r`), so that a recount can tell what changed while it counted.
 */
interface Stored {
  n: number;
  g: number;
  r: number;
}

/** A counter as read, with the revision a conditioned write must name (0: never written). */
export interface CounterReading extends Stored {
  revision: number;
}

const NEVER: CounterReading = { n: 0, g: 0, r: 0, revision: 0 };

/**
 * Counters per key, shared by every replica, in a NATS KV bucket: each change a compare-and-set of
 * the value read, so replicas racing never lose one another's changes, and a bound (`atMost`) holds
 * across all of them. Values never go below 0. A counter is what its writers make it: work that
 * may be counted and then not done (a crash between the two) is recounted from the record
 * (`recount`).
 */
export class SharedCounters {
  constructor(
    private readonly kv: KeyValueStores,
    private readonly bucket: string,
  ) {
    kv.declare(bucket, {});
  }

  /**
   * Adds `by` (negative to take away, floored at 0) to `key`'s counter. With `atMost`, an increase
   * that would take it past that is not made: `added` false, the value as it stands. Throws when KV
   * cannot be asked, or when other writers kept winning every try.
   */
  async add(
    key: string,
    by: number,
    options: { atMost?: number } = {},
  ): Promise<{ added: boolean; value: number }> {
    return this.change<{ added: boolean; value: number }>(key, (now) => {
      const n = Math.max(0, now.n + by);
      if (by > 0 && options.atMost !== undefined && n > options.atMost) {
        return { answer: { added: false, value: now.n } };
      }
      const next = by > 0 ? { ...now, n } : { ...now, n, g: now.g - by };
      return { next, answer: { added: true, value: n } };
    });
  }

  /** The counter as it stands (0 at revision 0 when never written). */
  async read(key: string): Promise<CounterReading> {
    return readingOf(await (await this.kv.bucket(this.bucket)).get(kvToken(key)));
  }

  /** Every counter, by key: what a recount compares with what it counted. */
  async readAll(): Promise<Map<string, CounterReading>> {
    const kv = await this.kv.bucket(this.bucket);
    // Every key first: nats.js ends a key listing once it has delivered its batch, dropping keys
    // that arrive while the loop awaits something else (a read), as AccountPrivacy found.
    const keys: string[] = [];
    const listing = await kv.keys();
    // An ordered consumer that a NATS node's loss left without its last message would never end:
    // stopped, the read fails (the caller tries again later) instead of holding its caller for ever.
    let late = false;
    const deadline = setTimeout(() => {
      late = true;
      listing.stop();
    }, KEY_LISTING_MS);
    try {
      for await (const k of listing) keys.push(k);
    } finally {
      clearTimeout(deadline);
    }
    if (late) throw new Error(`counters of ${this.bucket} not all listed within ${KEY_LISTING_MS} ms`);
    const all = new Map<string, CounterReading>();
    for (const k of keys) all.set(fromKvToken(k), readingOf(await kv.get(k)));
    return all;
  }

  /**
   * Corrects `key`'s counter by what the record held (`counted`, by a count that began after
   * `before` was read), changing only what the count proves, whatever was added or taken away
   * while it ran (`g` since `before`: each may have taken away one the count saw, or one it missed):
   * - down by what was counted at `before` and can no longer be in the record (`before − counted −
   *   taken away since`: counted and never recorded, or whose taking away was lost);
   * - up to what the record certainly still holds (`counted − taken away since`: taken away twice).
   * Nothing when another recount has set it since `before` (two at once would correct twice).
   * `before` unknown: the counter did not exist when the count began.
   * The counter as it stands after, and by how much this changed it.
   */
  async recount(
    key: string,
    counted: number,
    before: CounterReading = NEVER,
  ): Promise<{ value: number; corrected: number }> {
    return this.change(key, (now) => {
      const n = recounted(before, now, counted);
      if (n === null || n === now.n) return { answer: { value: now.n, corrected: 0 } };
      return { next: { ...now, n, r: now.r + 1 }, answer: { value: n, corrected: n - now.n } };
    });
  }

  /**
   * Reads `key`'s counter and writes what `decide` makes of it, conditioned on the revision read,
   * reading again when another writer came first (pausing a little longer each time). `decide`
   * without `next`: nothing to write. Throws when KV cannot be asked, or after CAS_TRIES lost.
   */
  private async change<T>(
    key: string,
    decide: (now: CounterReading) => { next?: Stored; answer: T },
  ): Promise<T> {
    const kv = await this.kv.bucket(this.bucket);
    const token = kvToken(key);
    for (let i = 0; i < CAS_TRIES; i++) {
      if (i > 0) await pause(i);
      const now = readingOf(await kv.get(token));
      const { next, answer } = decide(now);
      if (!next || (await write(kv, token, next, now.revision))) return answer;
    }
    throw new Error(`counter ${key}: ${CAS_TRIES} compare-and-set tries lost to other writers`);
  }
}

/**
 * What `recount` sets a counter to, read at `before` and `now` around a count of the record that
 * found `counted` (see there); null when another recount set it in between.
 */
export function recounted(before: CounterReading, now: CounterReading, counted: number): number | null {
  if (now.r !== before.r) return null;
  const takenAway = now.g - before.g;
  const lost = Math.max(0, before.n - counted - takenAway);
  return Math.max(now.n - lost, counted - takenAway, 0);
}

/** True when written; false when another writer changed the key since `revision` was read. */
async function write(kv: KV, key: string, value: Stored, revision: number): Promise<boolean> {
  const { n, g, r } = value;
  try {
    // Revision 0: never written (a deleted key's marker has a revision of its own: updated).
    if (revision === 0) await kv.create(key, kvEncode({ n, g, r }));
    else await kv.update(key, kvEncode({ n, g, r }), revision);
    return true;
  } catch (err) {
    if (isWrongLastSequence(err)) return false;
    throw err;
  }
}

function readingOf(entry: KvEntry | null): CounterReading {
  if (!entry) return NEVER;
  const stored = entry.operation === 'PUT' ? kvDecode<Partial<Stored>>(entry.value) : null;
  const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  return {
    n: count(stored?.n),
    g: count(stored?.g),
    r: count(stored?.r),
    revision: entry.revision,
  };
}

function pause(attempt: number): Promise<void> {
  return new Promise((resolve) =>
    setTimeout(resolve, randomInt(1, Math.min(CAS_PAUSE_MAX_MS, 2 ** attempt) + 1)),
  );
}
