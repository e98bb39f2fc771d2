import { Injectable } from '@nestjs/common';
import { KeyValueStores, kvDecode, kvEncode } from '@maskline/messaging';
import type { PlivoCallback } from '../events/plivo-callback';
import { DELIVERY_STATE_BUCKET, DeliveryLedger } from './delivery-ledger';

/**
 * Events a watch block spans: the sweep reads a block once the event stream has forgotten all of
 * it (a few minutes under a flood at a tenant's inbound limit), one filtered listing a block.
 */
export const WATCH_BLOCK = 65_536;

/** Where the sweep goes on (the lowest block not swept yet), rewritten each run so that the bucket never forgets it first. */
const CURSOR_KEY = 'w.cursor';

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
}

/** A watched retry read back, with what the sweep needs to remove it. */
export interface WatchEntry {
  revision: number;
  retry: WatchedRetry | null;
}

/**
 * Retries that wait hours, written down where the sweep can find them by their event's position on
 * the stream (`w.<block>.<sequence>` in the delivery ledger's bucket): the event stream forgets its
 * oldest events when full, and a retry whose event it forgot never comes, with no error. The sweep
 * (`LostRetrySweeper`) reads each block the stream has wholly forgotten and dead-letters the
 * callbacks whose retry did not come. One KV write a long retry; nothing on any other path.
 */
@Injectable()
export class LostRetryWatch {
  constructor(
    private readonly kv: KeyValueStores,
    private readonly ledger: DeliveryLedger,
  ) {}

  private bucket() {
    return this.kv.bucket(DELIVERY_STATE_BUCKET);
  }

  /** Writes down a retry scheduled for the event at `streamSequence` (again for each long retry). */
  async watch(streamSequence: number, retry: WatchedRetry): Promise<void> {
    await (await this.bucket()).put(watchKey(streamSequence), kvEncode(retry));
  }

  /** The lowest block not swept yet, if written down. */
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
    for await (const key of await (await this.bucket()).keys('w.*.*')) {
      const block = Number(key.split('.')[1]);
      if (Number.isInteger(block) && (lowest === undefined || block < lowest)) lowest = block;
    }
    return lowest;
  }

  /** The watches of one block. */
  async ofBlock(block: number): Promise<WatchEntry[]> {
    const kv = await this.bucket();
    const keys: string[] = [];
    for await (const key of await kv.keys(`w.${block}.*`)) keys.push(key);
    const entries = await Promise.all(keys.map((key) => kv.get(key)));
    return entries.flatMap((entry) =>
      entry && entry.operation === 'PUT'
        ? [{ revision: entry.revision, retry: kvDecode<WatchedRetry>(entry.value) }]
        : [],
    );
  }

  /**
   * Whether the retry came: the callback was delivered, or an attempt was made after it was
   * watched (every attempt that fails writes its count first). A retry that came and was ended
   * without an attempt (too old: dead-lettered then) counts as not come, and its letter's reason
   * is rewritten to the loss.
   */
  async came(retry: WatchedRetry): Promise<boolean> {
    if (await this.ledger.delivered(retry.eventId)) return true;
    return (await this.ledger.attemptsMade(retry.attemptKey)) > retry.attempts;
  }

  /** Removes a watch read by `ofBlock` (that revision only: a newer one stays). */
  forget(entry: WatchEntry): Promise<void> {
    return this.kv.forgetRevision(DELIVERY_STATE_BUCKET, entry.revision);
  }
}

function watchKey(streamSequence: number): string {
  return `w.${Math.floor(streamSequence / WATCH_BLOCK)}.${streamSequence}`;
}
