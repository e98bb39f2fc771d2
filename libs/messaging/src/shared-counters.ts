import type { KV, KvEntry } from 'nats';
import { KeyValueStores, fromKvToken, isWrongLastSequence, kvToken } from './key-value-stores';

/** Compare-and-set tries before a write under contention gives up (each a read and a write). */
const CAS_TRIES = 20;

/** A counter as read: its value, and the revision a conditioned write must name (0: never written). */
export interface CounterReading {
  value: number;
  revision: number;
}

/**
 * Counters per key, shared by every replica, in a NATS KV bucket: each change a compare-and-set of
 * the value read, so replicas racing never lose one another's changes, and a bound (`atMost`) holds
 * across all of them. Values never go below 0. A counter is what its writers make it: work that
 * may be counted and then not done (a crash between the two) must be recounted from the record
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
    const kv = await this.kv.bucket(this.bucket);
    const k = kvToken(key);
    for (let i = 0; i < CAS_TRIES; i++) {
      const now = readingOf(await kv.get(k));
      const next = Math.max(0, now.value + by);
      if (by > 0 && options.atMost !== undefined && next > options.atMost)
        return { added: false, value: now.value };
      if (await this.write(kv, k, next, now.revision)) return { added: true, value: next };
    }
    throw new Error(`counter ${key}: ${CAS_TRIES} compare-and-set tries lost to other writers`);
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
    for await (const k of await kv.keys()) keys.push(k);
    const all = new Map<string, CounterReading>();
    for (const k of keys) all.set(fromKvToken(k), readingOf(await kv.get(k)));
    return all;
  }

  /**
   * Sets `key`'s counter to what was counted in the record while it stood at `before`, plus what
   * its writers changed since: `counted + (now − before)`, conditioned on `now`'s revision (tried
   * again on a race). A change counted both in the record and since (made during the count) is
   * counted twice until the next recount; nothing is lost. The counter as set.
   */
  async recount(key: string, counted: number, before: CounterReading): Promise<number> {
    const kv = await this.kv.bucket(this.bucket);
    const token = kvToken(key);
    for (let i = 0; i < CAS_TRIES; i++) {
      const now = readingOf(await kv.get(token));
      const next = Math.max(0, counted + (now.value - before.value));
      if (next === now.value) return next;
      if (await this.write(kv, token, next, now.revision)) return next;
    }
    throw new Error(`counter ${token}: ${CAS_TRIES} compare-and-set tries lost to other writers`);
  }

  /** True when written; false when another writer changed the key since `revision` was read. */
  private async write(kv: KV, key: string, value: number, revision: number): Promise<boolean> {
    try {
      const encoded = new TextEncoder().encode(String(value));
      // Revision 0: never written (a deleted key's marker has a revision of its own: updated).
      if (revision === 0) await kv.create(key, encoded);
      else await kv.update(key, encoded, revision);
      return true;
    } catch (err) {
      if (isWrongLastSequence(err)) return false;
      throw err;
    }
  }
}

function readingOf(entry: KvEntry | null): CounterReading {
  if (!entry || entry.operation !== 'PUT') return { value: 0, revision: entry?.revision ?? 0 };
  const value = Number(new TextDecoder().decode(entry.value));
  return { value: Number.isFinite(value) && value >= 0 ? value : 0, revision: entry.revision };
}
