import { Inject, Injectable } from '@nestjs/common';
import type { KvEntry } from 'nats';
import { NATS_RECORD_BYTES, SUBACCOUNT_SHARE_PERCENT, natsEntryBound } from '@maskline/contracts';
import {
  KeyValueStores,
  SubaccountShareBuckets,
  kvDecode,
  kvEncode,
  shareOfRoomRule,
} from '@maskline/messaging';
import { CLOCK, type Clock } from '@maskline/service-kit';
import {
  CALLBACK_DISPATCHER_CONFIG,
  type CallbackDispatcherConfig,
} from '../config/callback-dispatcher.config';
import type { PlivoCallback } from '../events/plivo-callback';

/** KV: callbacks put off once their events are minutes old, by their event's position on the stream. */
export const RETRY_WATCH_BUCKET = 'maskline-callback-retry-watches';

/** KV: each account's allowance of new watches (a token bucket every replica shares), one key an account. */
export const WATCH_ALLOWANCE_BUCKET = 'maskline-callback-watch-allowance';
/** KV: each subaccount's share of its main account's allowance, one key a subaccount. */
export const WATCH_SUBACCOUNT_ALLOWANCE_BUCKET = 'maskline-callback-watch-subaccount-allowance';

/**
 * Events a watch block spans: the sweep lists a block's watches once the event stream has begun to
 * forget it (a few minutes of events under a flood at a tenant's inbound limit).
 */
export const WATCH_BLOCK = 65_536;

/**
 * Where the sweep goes on (the lowest block not wholly swept), rewritten each run (with
 * CURSOR_FIRST_KEY) so that the bucket never forgets it first.
 */
const CURSOR_KEY = 'cursor';
/**
 * The stream's first event at the sweep's last run, apart from the block (which stays a bare number,
 * as the release before this one reads it during a rollout).
 */
const CURSOR_FIRST_KEY = 'cursor-first';

/** Bytes a watch takes in the bucket as measured (its share is counted in places of this size). */
const WATCH_BYTES = NATS_RECORD_BYTES.callbackRetryWatches;

/** Watches read, or removed, at once. */
const AT_ONCE = 64;

/** A callback waiting out a long retry: what its dead letter needs should its event be forgotten first. */
export interface WatchedRetry {
  eventId: string;
  /** Where its attempt count lives (`DeliveryLedger`), and the count when its retry was scheduled. */
  attemptKey: string;
  attempts: number;
  url: string;
  callback: PlivoCallback;
  sequence: number;
  subaccountId: string | null;
  /** When its last attempt failed (ms): the dead letter's time, from which its numbers are redacted. */
  failedAt: number;
  /** Sweeps whose dead letter the store refused (`tryAgainIn`). */
  sweepFailures?: number;
}

/** Where the sweep goes on: the lowest block not wholly swept, and the stream's first event at its last run. */
export interface SweepCursor {
  /** Unknown (the bucket forgot it): the next run finds the lowest block watched. */
  block?: number;
  /** Unknown (a cursor written before it was kept, or none): the next run judges nothing, and learns it. */
  first?: number;
}

/** A watched retry read back, with what the sweep needs to remove it. */
export interface WatchEntry {
  streamSequence: number;
  revision: number;
  retry: WatchedRetry | null;
}

/**
 * Callbacks put off once their events are minutes old, written down where the sweep can find them by
 * their event's position on the stream (`<block>.<sequence>`): the event stream forgets its oldest
 * events when full, and a retry whose event it forgot never comes, with no error. A watch stays
 * while its callback is put off, and goes when its callback ends (delivered, dead-lettered or
 * dropped); the sweep (`LostRetrySweeper`) dead-letters the callbacks whose watches are still there
 * once the stream has forgotten their events. A bucket of its own, so that the delivery ledger's
 * other entries (one a callback delivered) never push watches out.
 */
@Injectable()
export class LostRetryWatch {
  /** An account's share of the bucket: new watches a second, and at once. */
  readonly allowanceRule: { ratePerSecond: number; burst: number };
  private readonly allowance: SubaccountShareBuckets;

  constructor(
    private readonly kv: KeyValueStores,
    @Inject(CALLBACK_DISPATCHER_CONFIG) config: CallbackDispatcherConfig,
    @Inject(CLOCK) now: Clock,
  ) {
    // Past this, no retry can still come: the last is scheduled before CALLBACK_MAX_AGE_SECONDS,
    // at most the schedule's longest delay ahead (an hour more for a lagging consumer).
    const ttlMs =
      (config.CALLBACK_MAX_AGE_SECONDS + Math.max(...config.CALLBACK_RETRY_SCHEDULE_SECONDS) + 3600) * 1000;
    kv.declare(RETRY_WATCH_BUCKET, { ttlMs, storageShare: 'callbackRetryWatches' });
    // Full, the bucket forgets its oldest watches, every tenant's: one account's callbacks hold at
    // most CALLBACK_WATCHES_ACCOUNT_PERCENT of it. A watch is charged when first written, by its
    // size, and holds its place until its callback's last rewrite (before CALLBACK_MAX_AGE_SECONDS)
    // has aged out: the share refills over that, never sooner (a place given back when a watch goes
    // as well would count it twice, and let one account fill the bucket in days).
    const room = natsEntryBound('callbackRetryWatches', config.NATS_STORAGE_BYTES, config.NATS_MEMORY_BYTES);
    const lifetimeMs = config.CALLBACK_MAX_AGE_SECONDS * 1000 + ttlMs;
    this.allowanceRule = shareOfRoomRule(room, config.CALLBACK_WATCHES_ACCOUNT_PERCENT, lifetimeMs);
    // A subaccount's take first from a share of its own (SUBACCOUNT_SHARE_PERCENT): one whose endpoint
    // fails leaves its main account and siblings the rest of their account's watches.
    this.allowance = new SubaccountShareBuckets(kv, {
      bucket: WATCH_ALLOWANCE_BUCKET,
      subaccountBucket: WATCH_SUBACCOUNT_ALLOWANCE_BUCKET,
      ...this.allowanceRule,
      percent: SUBACCOUNT_SHARE_PERCENT,
      now,
    });
  }

  private bucket() {
    return this.kv.bucket(RETRY_WATCH_BUCKET);
  }

  /**
   * Writes down a callback put off, for the event at `streamSequence`: again when what it holds
   * changes (`replacing` the watch read), free; a new one within its account's share of the bucket,
   * a place for each WATCH_BYTES it takes (a long URL, a recording's parameters), past which it is
   * not written. Whether it was.
   */
  async watch(streamSequence: number, retry: WatchedRetry, replacing: WatchEntry | null): Promise<boolean> {
    const value = kvEncode(retry);
    if (!replacing) {
      for (let place = 0; place < Math.ceil(value.length / WATCH_BYTES); place++) {
        const owner = { accountId: retry.callback.accountId, subaccountId: retry.subaccountId };
        if (!(await this.allowance.take(owner)).ok) return false;
      }
    }
    await (await this.bucket()).put(watchKey(streamSequence), value);
    return true;
  }

  /**
   * A lost watch the store would not dead-letter, moved to `block` (the one the sweep reads again at
   * every run) to be tried again there, its failures counted.
   */
  async tryAgainIn(block: number, entry: WatchEntry & { retry: WatchedRetry }): Promise<void> {
    const retry = { ...entry.retry, sweepFailures: (entry.retry.sweepFailures ?? 0) + 1 };
    await (await this.bucket()).put(`${block}.${entry.streamSequence}`, kvEncode(retry));
    await this.kv.forgetRevision(RETRY_WATCH_BUCKET, entry.revision);
  }

  /** The watch of the event at `streamSequence`, if there is one. */
  async of(streamSequence: number): Promise<WatchEntry | null> {
    const entry = await (await this.bucket()).get(watchKey(streamSequence));
    return entry && entry.operation === 'PUT' ? entryOf(entry.key, entry.revision, entry.value) : null;
  }

  /** Where the sweep goes on, if written down. */
  async cursor(): Promise<SweepCursor> {
    const kv = await this.bucket();
    const [block, first] = await Promise.all([kv.get(CURSOR_KEY), kv.get(CURSOR_FIRST_KEY)]);
    return { block: numberIn(block), first: numberIn(first) };
  }

  async setCursor(cursor: SweepCursor): Promise<void> {
    const kv = await this.bucket();
    if (cursor.block !== undefined) await kv.put(CURSOR_KEY, kvEncode(cursor.block));
    if (cursor.first !== undefined) await kv.put(CURSOR_FIRST_KEY, kvEncode(cursor.first));
  }

  /** The lowest block holding a watch (one listing of every watch: when the cursor was lost). */
  async lowestBlock(): Promise<number | undefined> {
    let lowest: number | undefined;
    for await (const key of await (await this.bucket()).keys('*.*')) {
      const block = Number(key.split('.')[0]);
      if (Number.isInteger(block) && (lowest === undefined || block < lowest)) lowest = block;
    }
    return lowest;
  }

  /**
   * The watches of one block for events before `before`, at most `atMost` of them (a listing, then a
   * read of each of those): `complete` when none was left out for `atMost`.
   */
  async ofBlock(
    block: number,
    before = Infinity,
    atMost = Infinity,
  ): Promise<{ entries: WatchEntry[]; complete: boolean }> {
    const kv = await this.bucket();
    const keys: string[] = [];
    let complete = true;
    for await (const key of await kv.keys(`${block}.*`)) {
      if (Number(key.split('.')[1]) >= before) continue;
      if (keys.length < atMost) keys.push(key);
      else complete = false;
    }
    const entries: WatchEntry[] = [];
    for (let i = 0; i < keys.length; i += AT_ONCE) {
      const read = await Promise.all(keys.slice(i, i + AT_ONCE).map((key) => kv.get(key)));
      for (const entry of read) {
        if (entry && entry.operation === 'PUT') entries.push(entryOf(entry.key, entry.revision, entry.value));
      }
    }
    return { entries, complete };
  }

  /** Removes watches read (those revisions only: a newer one stays). */
  async forget(entries: WatchEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += AT_ONCE) {
      await Promise.all(
        entries
          .slice(i, i + AT_ONCE)
          .map((entry) => this.kv.forgetRevision(RETRY_WATCH_BUCKET, entry.revision)),
      );
    }
  }
}

function numberIn(entry: KvEntry | null): number | undefined {
  const value = entry && entry.operation === 'PUT' ? decodedOrNull(entry.value) : null;
  return typeof value === 'number' ? value : undefined;
}

function decodedOrNull(value: Uint8Array): unknown {
  try {
    return kvDecode<unknown>(value);
  } catch {
    return null;
  }
}

function entryOf(key: string, revision: number, value: Uint8Array): WatchEntry {
  return { streamSequence: Number(key.split('.')[1]), revision, retry: decoded(value) };
}

/** A watch as written; one that cannot be read (not this release's writing) is none, to be removed. */
function decoded(value: Uint8Array): WatchedRetry | null {
  const retry = decodedOrNull(value) as WatchedRetry | null;
  return retry && typeof retry.eventId === 'string' && retry.callback ? retry : null;
}

function watchKey(streamSequence: number): string {
  return `${Math.floor(streamSequence / WATCH_BLOCK)}.${streamSequence}`;
}
