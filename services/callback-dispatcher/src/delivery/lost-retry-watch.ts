import { Inject, Injectable } from '@nestjs/common';
import { KeyValueStores, kvDecode, kvEncode } from '@maskline/messaging';
import {
  CALLBACK_DISPATCHER_CONFIG,
  type CallbackDispatcherConfig,
} from '../config/callback-dispatcher.config';
import type { PlivoCallback } from '../events/plivo-callback';

/** KV: callbacks waiting for a retry scheduled hours ahead, by their event's position on the stream. */
export const RETRY_WATCH_BUCKET = 'maskline-callback-retry-watches';

/**
 * Events a watch block spans: the sweep lists a block's watches once the event stream has begun to
 * forget it (a few minutes of events under a flood at a tenant's inbound limit).
 */
export const WATCH_BLOCK = 65_536;

/** Where the sweep goes on (the lowest block not wholly swept), rewritten each run so that the bucket never forgets it first. */
const CURSOR_KEY = 'cursor';

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
}

/** A watched retry read back, with what the sweep needs to remove it. */
export interface WatchEntry {
  streamSequence: number;
  revision: number;
  retry: WatchedRetry | null;
}

/**
 * Retries that wait hours, written down where the sweep can find them by their event's position on
 * the stream (`<block>.<sequence>`): the event stream forgets its oldest events when full, and a
 * retry whose event it forgot never comes, with no error. A retry that comes removes its watch
 * first, whatever it then does; the sweep (`LostRetrySweeper`) dead-letters the callbacks whose
 * watches are still there once the stream has forgotten their events. A bucket of its own, so that
 * the delivery ledger's other entries (one a callback delivered) never push watches out.
 */
@Injectable()
export class LostRetryWatch {
  constructor(
    private readonly kv: KeyValueStores,
    @Inject(CALLBACK_DISPATCHER_CONFIG) config: CallbackDispatcherConfig,
  ) {
    kv.declare(RETRY_WATCH_BUCKET, {
      // Past this, no retry can still come: the last is scheduled before CALLBACK_MAX_AGE_SECONDS,
      // at most the schedule's longest delay ahead (an hour more for a lagging consumer).
      ttlMs:
        (config.CALLBACK_MAX_AGE_SECONDS + Math.max(...config.CALLBACK_RETRY_SCHEDULE_SECONDS) + 3600) * 1000,
      storageShare: 'callbackRetryWatches',
    });
  }

  private bucket() {
    return this.kv.bucket(RETRY_WATCH_BUCKET);
  }

  /** Writes down a retry scheduled for the event at `streamSequence` (again for each long retry). */
  async watch(streamSequence: number, retry: WatchedRetry): Promise<void> {
    await (await this.bucket()).put(watchKey(streamSequence), kvEncode(retry));
  }

  /** The retry came: its watch goes (that revision only, leaving nothing; none is a no-op). */
  async cameFor(streamSequence: number): Promise<void> {
    const entry = await (await this.bucket()).get(watchKey(streamSequence));
    if (entry && entry.operation === 'PUT') await this.kv.forgetRevision(RETRY_WATCH_BUCKET, entry.revision);
  }

  /** The lowest block not wholly swept, if written down. */
  async cursor(): Promise<number | undefined> {
    const entry = await (await this.bucket()).get(CURSOR_KEY);
    const value = entry && entry.operation === 'PUT' ? kvDecode<number>(entry.value) : null;
    return typeof value === 'number' ? value : undefined;
  }

  async setCursor(block: number): Promise<void> {
    await (await this.bucket()).put(CURSOR_KEY, kvEncode(block));
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
   * read of each of those).
   */
  async ofBlock(block: number, before = Infinity, atMost = Infinity): Promise<WatchEntry[]> {
    const kv = await this.bucket();
    const keys: string[] = [];
    for await (const key of await kv.keys(`${block}.*`)) {
      if (keys.length < atMost && Number(key.split('.')[1]) < before) keys.push(key);
    }
    const found: WatchEntry[] = [];
    for (let i = 0; i < keys.length; i += AT_ONCE) {
      const entries = await Promise.all(keys.slice(i, i + AT_ONCE).map((key) => kv.get(key)));
      for (const entry of entries) {
        if (!entry || entry.operation !== 'PUT') continue;
        found.push({
          streamSequence: Number(entry.key.split('.')[1]),
          revision: entry.revision,
          retry: kvDecode<WatchedRetry>(entry.value),
        });
      }
    }
    return found;
  }

  /** Removes watches read by `ofBlock` (those revisions only: a newer one stays). */
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

function watchKey(streamSequence: number): string {
  return `${Math.floor(streamSequence / WATCH_BLOCK)}.${streamSequence}`;
}
