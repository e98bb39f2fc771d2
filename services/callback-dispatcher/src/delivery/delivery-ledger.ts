import { Injectable } from '@nestjs/common';
import { KeyValueStores, kvDecode, kvEncode } from '@maskline/messaging';

/** KV: delivered markers (a redelivered event is not sent twice) and attempt counts; kept 8 days. */
export const DELIVERY_STATE_BUCKET = 'maskline-callback-state';
const STATE_TTL_MS = 8 * 86400 * 1000;

/**
 * What every dispatcher replica must agree on about a callback: whether it was delivered, and how
 * many attempts were made (per event, or per replay of a dead letter). In NATS KV: O(1), shared.
 */
@Injectable()
export class DeliveryLedger {
  constructor(private readonly kv: KeyValueStores) {
    kv.declare(DELIVERY_STATE_BUCKET, { ttlMs: STATE_TTL_MS });
  }

  private bucket() {
    return this.kv.bucket(DELIVERY_STATE_BUCKET, { ttlMs: STATE_TTL_MS });
  }

  async isDelivered(eventId: string): Promise<boolean> {
    const entry = await (await this.bucket()).get(`d.${eventId}`);
    return entry !== null && entry.operation === 'PUT';
  }

  async markDelivered(eventId: string, atMs: number): Promise<void> {
    await (await this.bucket()).put(`d.${eventId}`, kvEncode(atMs));
  }

  async attemptsMade(attemptKey: string): Promise<number> {
    const entry = await (await this.bucket()).get(`a.${attemptKey}`);
    return entry && entry.operation === 'PUT' ? (kvDecode<number>(entry.value) ?? 0) : 0;
  }

  async setAttemptsMade(attemptKey: string, n: number): Promise<void> {
    await (await this.bucket()).put(`a.${attemptKey}`, kvEncode(n));
  }
}
