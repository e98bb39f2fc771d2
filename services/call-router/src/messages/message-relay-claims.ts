import { Injectable } from '@nestjs/common';
import {
  KeyValueStores,
  createIfAbsent,
  isWrongLastSequence,
  kvDecode,
  kvEncode,
  kvToken,
} from '@maskline/messaging';

/** One claim per inbound message: who is sending it, or that it has been dealt with. */
export const MESSAGE_RELAY_BUCKET = 'maskline-message-relays';
/** Fallback messages sent, per number and sender: at most one per interval. */
export const MESSAGE_FALLBACK_BUCKET = 'maskline-message-fallbacks';
/** Longer than any provider's retries of a webhook and than the stream keeps the event. */
const CLAIM_TTL_MS = 8 * 86400 * 1000;

/** What became of a message once it is dealt with: announced again on a redelivery (the same event id). */
export type RelayOutcome =
  | { event: 'relayed'; relayedMessageId: string | null }
  | { event: 'failed'; reason: 'provider-refused' | 'provider-unavailable' }
  /** A fallback message sent, or nothing to send: nothing to announce. */
  | { event: 'none' };

type Claim = { state: 'sending'; until: number } | { state: 'done'; outcome: RelayOutcome };

export type ClaimResult =
  | { kind: 'claimed' }
  /** Already sent (or given up on): only its outcome is announced again. */
  | { kind: 'done'; outcome: RelayOutcome }
  /** Another replica is sending it now: ask again after this. */
  | { kind: 'busy'; retryInMs: number };

/**
 * Exactly one send per inbound message, across redeliveries and replicas: a claim is created in
 * KV before the send (atomic create: one winner), marked done after it, and given back when the
 * provider did not take the message (so a retry may send it). A claim whose holder died expires
 * after its lease and is taken over by compare-and-set.
 */
@Injectable()
export class MessageRelayClaims {
  constructor(private readonly kv: KeyValueStores) {
    kv.declare(MESSAGE_RELAY_BUCKET, { ttlMs: CLAIM_TTL_MS });
  }

  private bucket() {
    return this.kv.bucket(MESSAGE_RELAY_BUCKET, { ttlMs: CLAIM_TTL_MS });
  }

  async claim(key: string, leaseMs: number, nowMs = Date.now()): Promise<ClaimResult> {
    const kv = await this.bucket();
    const k = claimKey(key);
    const mine = kvEncode({ state: 'sending', until: nowMs + leaseMs } satisfies Claim);
    if (await createIfAbsent(kv, k, mine)) return { kind: 'claimed' };
    const entry = await kv.get(k);
    if (!entry || entry.operation !== 'PUT') {
      return (await createIfAbsent(kv, k, mine)) ? { kind: 'claimed' } : { kind: 'busy', retryInMs: 1000 };
    }
    const held = kvDecode<Claim>(entry.value);
    if (held?.state === 'done') return { kind: 'done', outcome: held.outcome };
    if (held && held.until > nowMs) return { kind: 'busy', retryInMs: held.until - nowMs };
    try {
      await kv.update(k, mine, entry.revision);
      return { kind: 'claimed' };
    } catch (err) {
      if (isWrongLastSequence(err)) return { kind: 'busy', retryInMs: 1000 };
      throw err;
    }
  }

  async done(key: string, outcome: RelayOutcome): Promise<void> {
    await (await this.bucket()).put(claimKey(key), kvEncode({ state: 'done', outcome } satisfies Claim));
  }

  /** The provider did not take it: a retry may send it. */
  async giveBack(key: string): Promise<void> {
    await (await this.bucket()).delete(claimKey(key));
  }
}

function claimKey(key: string): string {
  return `m.${kvToken(key)}`;
}

/** At most one fallback message per number and sender per interval (an auto-responder cannot loop with it). */
@Injectable()
export class FallbackGate {
  constructor(private readonly kv: KeyValueStores) {}

  /**
   * Whether the fallback may answer this message: no other message from this sender to this number
   * was answered within the interval (a retry of this one's answer may go on).
   */
  async mayAnswer(
    intervalMs: number,
    virtualNumber: string,
    sender: string,
    messageKey: string,
  ): Promise<boolean> {
    if (intervalMs <= 0) return true;
    const kv = await this.kv.bucket(MESSAGE_FALLBACK_BUCKET, { ttlMs: intervalMs });
    const key = `f.${kvToken(virtualNumber)}.${kvToken(sender)}`;
    if (await createIfAbsent(kv, key, kvEncode(messageKey))) return true;
    const entry = await kv.get(key);
    return !!entry && entry.operation === 'PUT' && kvDecode<string>(entry.value) === messageKey;
  }
}
