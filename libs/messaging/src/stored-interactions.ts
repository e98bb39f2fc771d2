import { Injectable } from '@nestjs/common';
import {
  STORED_INTERACTIONS_BUCKET,
  STORED_INTERACTION_MARK_TTL_MS,
  type InteractionEnd,
} from '@maskline/contracts';
import { KeyValueStores, kvToken } from './key-value-stores';

const STORED = new Uint8Array([1]);

/**
 * Marks of interactions whose end is stored (see `stored-interactions.ts` in contracts): one KV put
 * per interaction where it is stored, one read (a few, while it is being stored) where a callback
 * about it is sent. Provided by the services that use it (the bucket is made where it is used).
 */
@Injectable()
export class StoredInteractions {
  constructor(private readonly kv: KeyValueStores) {
    // Bounded by its share of NATS, forgetting its oldest first: a mark is read within seconds of
    // being written, and one tenant's texts and calls would otherwise grow it without bound.
    kv.declare(STORED_INTERACTIONS_BUCKET, {
      ttlMs: STORED_INTERACTION_MARK_TTL_MS,
      storageShare: 'storedInteractions',
    });
  }

  /** Says the interaction's end is stored. */
  async mark(end: InteractionEnd): Promise<void> {
    await (await this.kv.bucket(STORED_INTERACTIONS_BUCKET)).put(keyOf(end), STORED);
  }

  /** Whether it is stored (one KV read). */
  async isStored(end: InteractionEnd): Promise<boolean> {
    return (await (await this.kv.bucket(STORED_INTERACTIONS_BUCKET)).get(keyOf(end)))?.operation === 'PUT';
  }
}

function keyOf(end: InteractionEnd): string {
  return `${end.sessionId}.${kvToken(end.interactionId)}`;
}
