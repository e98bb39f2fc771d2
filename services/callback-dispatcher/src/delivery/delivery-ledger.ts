import { Injectable } from '@nestjs/common';
import { KeyValueStores, kvDecode, kvEncode } from '@maskline/messaging';

/** KV: delivered markers (a redelivered event is not sent twice) and attempt counts; kept 8 days. */
export const DELIVERY_STATE_BUCKET = 'maskline-callback-state';
const STATE_TTL_MS = 8 * 86400 * 1000;

/** A delivered callback's attempt, as its record in the store says it (no parameters). */
export interface DeliveredAttempt {
  /** As sent (Plivo's name, or Twilio's for a Proxy Service). */
  eventName: string;
  url: string;
  method: 'GET' | 'POST';
  attempt: number;
  statusCode: number | null;
  latencyMs: number | null;
}

/**
 * A callback delivered: when, and the attempt that did it, kept only until its record is in the
 * store (the URL is not kept here longer than the store keeps it).
 */
export interface Delivered {
  at: number;
  attempt?: DeliveredAttempt;
}

/**
 * What every dispatcher replica must agree on about a callback: whether it was delivered, and how
 * many attempts were made (per event, or per replay of a dead letter). In NATS KV: O(1), shared.
 */
@Injectable()
export class DeliveryLedger {
  constructor(private readonly kv: KeyValueStores) {
    kv.declare(DELIVERY_STATE_BUCKET, { ttlMs: STATE_TTL_MS, storageShare: 'callbackLedger' });
  }

  private bucket() {
    return this.kv.bucket(DELIVERY_STATE_BUCKET);
  }

  /** When the callback was delivered, and its attempt's record (null: not delivered). */
  async delivered(eventId: string): Promise<Delivered | null> {
    const entry = await (await this.bucket()).get(`d.${eventId}`);
    if (entry === null || entry.operation !== 'PUT') return null;
    // An earlier version wrote the time alone.
    const value = kvDecode<number | Delivered>(entry.value);
    return typeof value === 'number' || value === null ? { at: value ?? 0 } : value;
  }

  async markDelivered(eventId: string, delivered: Delivered): Promise<void> {
    await (await this.bucket()).put(`d.${eventId}`, kvEncode(delivered));
  }

  async attemptsMade(attemptKey: string): Promise<number> {
    const entry = await (await this.bucket()).get(`a.${attemptKey}`);
    return entry && entry.operation === 'PUT' ? (kvDecode<number>(entry.value) ?? 0) : 0;
  }

  async setAttemptsMade(attemptKey: string, n: number): Promise<void> {
    await (await this.bucket()).put(`a.${attemptKey}`, kvEncode(n));
  }
}
