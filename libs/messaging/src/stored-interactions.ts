import { Injectable } from '@nestjs/common';
import {
  STORED_INTERACTIONS_BUCKET,
  STORED_INTERACTION_MARK_TTL_MS,
  type InteractionEnd,
} from '@maskline/contracts';
import { KeyValueStores, kvToken } from './key-value-stores';

const STORED = new Uint8Array([1]);
/** `until`'s first pause before it looks again, and its longest. */
const FIRST_LOOK_MS = 10;
const LAST_LOOK_MS = 100;

/**
 * Marks of interactions whose end is stored (see `stored-interactions.ts` in contracts): one KV put
 * per interaction where it is stored, one read (or a few, while it is being stored) where a callback
 * about it is sent. Provided by the services that use it (the bucket is made where it is used).
 */
@Injectable()
export class StoredInteractions {
  constructor(private readonly kv: KeyValueStores) {
    kv.declare(STORED_INTERACTIONS_BUCKET, { ttlMs: STORED_INTERACTION_MARK_TTL_MS });
  }

  /** Says the interaction's end is stored. */
  async mark(end: InteractionEnd): Promise<void> {
    await (await this.kv.bucket(STORED_INTERACTIONS_BUCKET)).put(keyOf(end), STORED);
  }

  /** Whether it is stored, looked for again until `withinMs` have passed (false if it is not by then). */
  async within(end: InteractionEnd, withinMs: number): Promise<boolean> {
    const kv = await this.kv.bucket(STORED_INTERACTIONS_BUCKET);
    const until = Date.now() + withinMs;
    let pauseMs = FIRST_LOOK_MS;
    for (;;) {
      if ((await kv.get(keyOf(end)))?.operation === 'PUT') return true;
      const leftMs = until - Date.now();
      if (leftMs <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(leftMs, pauseMs)));
      pauseMs = Math.min(LAST_LOOK_MS, pauseMs * 2);
    }
  }
}

function keyOf(end: InteractionEnd): string {
  return `${end.sessionId}.${kvToken(end.interactionId)}`;
}
