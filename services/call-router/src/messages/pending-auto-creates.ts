import { Injectable } from '@nestjs/common';
import { KeyValueStores, kvDecode, kvEncode, kvToken } from '@maskline/messaging';
import type { AutoCreate } from '../proxy/proxy-out-of-session';
import { CLAIM_TTL_MS, MESSAGE_RELAY_BUCKET } from './message-relay-claims';

/**
 * A Proxy Service's auto-create answer about a stranger's message, kept while the Session it asks
 * for may yet be made (`tries`: creates that went unanswered so far). A redelivery makes it again
 * without posting the Service's callback again; it is forgotten once the message is decided.
 */
export interface PendingAutoCreate {
  create: AutoCreate;
  tries: number;
}

/** Pending auto-creates, beside the messages' claims (under their own keys). */
@Injectable()
export class PendingAutoCreates {
  constructor(private readonly kv: KeyValueStores) {
    kv.declare(MESSAGE_RELAY_BUCKET, { ttlMs: CLAIM_TTL_MS });
  }

  private bucket() {
    return this.kv.bucket(MESSAGE_RELAY_BUCKET, { ttlMs: CLAIM_TTL_MS });
  }

  async of(key: string): Promise<PendingAutoCreate | undefined> {
    const entry = await (await this.bucket()).get(autoCreateKey(key));
    return entry && entry.operation === 'PUT'
      ? (kvDecode<PendingAutoCreate>(entry.value) ?? undefined)
      : undefined;
  }

  async keep(key: string, pending: PendingAutoCreate): Promise<void> {
    await (await this.bucket()).put(autoCreateKey(key), kvEncode(pending));
  }

  async forget(key: string): Promise<void> {
    await (await this.bucket()).purge(autoCreateKey(key));
  }
}

function autoCreateKey(key: string): string {
  return `a.${kvToken(key)}`;
}
