import { Injectable } from '@nestjs/common';
import { KeyValueStores, kvDecode, kvEncode, kvToken } from '@maskline/messaging';
import type { AutoCreate } from '../proxy/proxy-out-of-session';

/** Auto-creates kept while their Session may yet be made, one per inbound message. */
export const PENDING_AUTO_CREATES_BUCKET = 'maskline-message-auto-creates';
/**
 * Far longer than a kept auto-create is tried (about two minutes), and short: it holds a party's
 * number, and a message that ends before it is decided (its number given up meanwhile) never
 * forgets it.
 */
const PENDING_TTL_MS = 3600_000;

/**
 * A Proxy Service's auto-create answer about a stranger's message, kept while the Session it asks
 * for may yet be made (`tries`: creates that went unanswered so far; `serviceSid`: the Service that
 * answered, whose number it was). A redelivery makes it again without posting the Service's
 * callback again; it is forgotten once the message is decided.
 */
export interface PendingAutoCreate {
  create: AutoCreate;
  serviceSid: string;
  tries: number;
}

@Injectable()
export class PendingAutoCreates {
  constructor(private readonly kv: KeyValueStores) {
    // Bounded by its share of NATS as well, forgetting its oldest first (decided ones, mostly: a
    // forgotten one under way posts its Service's callback again).
    kv.declare(PENDING_AUTO_CREATES_BUCKET, { ttlMs: PENDING_TTL_MS, storageShare: 'pendingAutoCreates' });
  }

  private bucket() {
    return this.kv.bucket(PENDING_AUTO_CREATES_BUCKET);
  }

  async of(key: string): Promise<PendingAutoCreate | undefined> {
    const entry = await (await this.bucket()).get(kvToken(key));
    return entry && entry.operation === 'PUT'
      ? (kvDecode<PendingAutoCreate>(entry.value) ?? undefined)
      : undefined;
  }

  async keep(key: string, pending: PendingAutoCreate): Promise<void> {
    await (await this.bucket()).put(kvToken(key), kvEncode(pending));
  }

  async forget(key: string): Promise<void> {
    await (await this.bucket()).purge(kvToken(key));
  }
}
