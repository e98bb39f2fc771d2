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
/**
 * Fallback messages sent, per number and sender: at most one per interval. Its own name since it
 * is bounded (FALLBACK_GATE_KEYS_MAX): a replica of an earlier release opens the bucket it knew
 * (`maskline-message-fallbacks`) with no bound and a policy of refusing when full, which it would set
 * again on a shared bucket, so that once full every tenant's fallbacks were refused. The earlier
 * bucket empties as its entries age out and may then be deleted.
 */
export const MESSAGE_FALLBACK_BUCKET = 'maskline-message-fallback-gate';
/**
 * The most senders the fallback gate remembers, the oldest forgotten first: one key per number and
 * sender answered, and a tenant signing its own numbers' webhooks can name a new sender each time (at
 * its inbound limit, 200 a second, 720,000 keys an hour, and the interval may be days). About 80 MB of
 * NATS memory at most. A sender forgotten early may be answered once more within the interval, and
 * one tenant naming senders at its limit makes every tenant's be forgotten sooner (in about 17
 * minutes at the defaults).
 */
export const FALLBACK_GATE_KEYS_MAX = 200_000;
/** Longer than any provider's retries of a webhook and than the stream keeps the event. */
const CLAIM_TTL_MS = 8 * 86400 * 1000;

/**
 * A message's outcome, to be announced (MessageRelayed or MessageFailed, without the routing view).
 * Kept in the claim only when it could not be published: a redelivery then announces it again (the
 * same event id) instead of deciding afresh; once published it is dropped, so party numbers do not
 * linger here.
 */
export interface Announcement {
  event: 'relayed' | 'failed';
  payload: Record<string, unknown>;
}

type SealedText = { k: string; iv: string; ct: string; tag: string };

/**
 * What the first attempt decided to do with a message: relay it to a party of a session, or answer
 * the sender with the number's fallback. A retry carries out the same plan, even if the session has
 * ended meanwhile: a message half sent one way is never then sent the other way.
 */
export type RelayPlan =
  | { kind: 'relay'; sessionId: string; to: string; direction: 'first-to-second' | 'second-to-first' }
  | { kind: 'fallback' }
  /** A Proxy Service's TwiML reply to the sender, sealed (it rests here until sent). */
  | { kind: 'reply'; text: SealedText };

export type Claim =
  | { state: 'sending'; until: number; sends: number; plan: RelayPlan }
  /**
   * Given back: the provider did not take it (`sends` so far); a retry may send it (`refresh`: with
   * the number's credentials read afresh, the provider having refused those the last one had).
   */
  | { state: 'waiting'; sends: number; plan: RelayPlan; refresh?: true }
  | { state: 'done'; announce: Announcement | null };

export type ClaimResult =
  /**
   * This replica sends now: `sends` were made before (retries count real sends, nothing else), under
   * `plan` (the first attempt's, or this one's); `revision` guards giving it back.
   */
  | { kind: 'claimed'; sends: number; plan: RelayPlan; revision: number }
  /** Dealt with: only its announcement, if still unpublished, remains. */
  | { kind: 'done'; announce: Announcement | null }
  /** Another replica is sending it now: ask again after this. */
  | { kind: 'busy'; retryInMs: number };

/** How often a claim's last write is tried before the handler gives up (it is then redelivered). */
const FINISH_TRIES = 3;

/**
 * Exactly one send per inbound message, across redeliveries and replicas: a claim is created in
 * KV before the send (atomic create: one winner), marked done after it, and given back when the
 * provider did not take the message (so a retry may send it). A claim whose holder died expires
 * after its lease and is taken over by compare-and-set: the one window where a message can go
 * twice is a holder that died between the provider taking it and the claim saying so, its outcome's
 * publish included (neither provider has an idempotency key for sends).
 */
@Injectable()
export class MessageRelayClaims {
  constructor(private readonly kv: KeyValueStores) {
    kv.declare(MESSAGE_RELAY_BUCKET, { ttlMs: CLAIM_TTL_MS, storageShare: 'messageRelays' });
  }

  private bucket() {
    return this.kv.bucket(MESSAGE_RELAY_BUCKET);
  }

  /** What the claim says now, without taking it (undefined: nobody has touched the message). */
  async peek(key: string): Promise<Claim | undefined> {
    const entry = await (await this.bucket()).get(claimKey(key));
    return entry && entry.operation === 'PUT' ? (kvDecode<Claim>(entry.value) ?? undefined) : undefined;
  }

  /** Takes the claim to send under `plan`, unless an earlier attempt left a plan of its own. */
  async claim(key: string, leaseMs: number, plan: RelayPlan, nowMs = Date.now()): Promise<ClaimResult> {
    const kv = await this.bucket();
    const k = claimKey(key);
    const sending = (sends: number, p: RelayPlan) =>
      kvEncode({ state: 'sending', until: nowMs + leaseMs, sends, plan: p } satisfies Claim);
    const create = async (): Promise<ClaimResult | undefined> => {
      try {
        const revision = await kv.create(k, sending(0, plan));
        return { kind: 'claimed', sends: 0, plan, revision };
      } catch (err) {
        if (isWrongLastSequence(err)) return undefined;
        throw err;
      }
    };
    const created = await create();
    if (created) return created;
    const entry = await kv.get(k);
    if (!entry || entry.operation !== 'PUT') return (await create()) ?? { kind: 'busy', retryInMs: 1000 };
    const held = kvDecode<Claim>(entry.value);
    if (!held) return { kind: 'busy', retryInMs: 1000 };
    if (held.state === 'done') return { kind: 'done', announce: held.announce };
    if (held.state === 'sending' && held.until > nowMs)
      return { kind: 'busy', retryInMs: held.until - nowMs };
    // Given back, or its holder died (its send counts: it may have gone). Its plan stands.
    const sends = held.sends + (held.state === 'sending' ? 1 : 0);
    try {
      const revision = await kv.update(k, sending(sends, held.plan), entry.revision);
      return { kind: 'claimed', sends, plan: held.plan, revision };
    } catch (err) {
      if (isWrongLastSequence(err)) return { kind: 'busy', retryInMs: 1000 };
      throw err;
    }
  }

  /**
   * Stores `plan` as waiting, no send made, for a message nobody has touched yet whose provider
   * account is held back: the one write a claim and its give-back would be two of. False when the
   * message already has a claim (another copy got there): then it goes the usual way.
   */
  async park(key: string, plan: RelayPlan): Promise<boolean> {
    const waiting = kvEncode({ state: 'waiting', sends: 0, plan } satisfies Claim);
    try {
      await (await this.bucket()).create(claimKey(key), waiting);
      return true;
    } catch (err) {
      if (isWrongLastSequence(err)) return false;
      throw err;
    }
  }

  /**
   * Dealt with; `announce` is what is still to be published. Written whatever the claim says now
   * (a send happened: nothing may send it again). Tried a few times: a lost write means a second send.
   */
  async finish(key: string, announce: Announcement | null): Promise<void> {
    const value = kvEncode({ state: 'done', announce } satisfies Claim);
    for (let tryNo = 1; ; tryNo++) {
      try {
        await (await this.bucket()).put(claimKey(key), value);
        return;
      } catch (err) {
        if (tryNo >= FINISH_TRIES) throw err;
        await new Promise((r) => setTimeout(r, 100 * tryNo));
      }
    }
  }

  /** The announcement is published: nothing more is kept but that the message was dealt with. */
  async announced(key: string): Promise<void> {
    await this.finish(key, null);
  }

  /**
   * The provider did not take it (`sends` made so far): a retry may send it, under the same plan.
   * Only if the claim is still this holder's (`revision`): a holder whose lease lapsed while it
   * waited must not undo what the one that took over did. Whether it was given back (false: the
   * claim was another's by then).
   */
  async giveBack(
    key: string,
    claimed: { sends: number; plan: RelayPlan; revision: number },
    options: { refresh?: true } = {},
  ): Promise<boolean> {
    try {
      await (
        await this.bucket()
      ).update(
        claimKey(key),
        kvEncode({ state: 'waiting', sends: claimed.sends, plan: claimed.plan, ...options } satisfies Claim),
        claimed.revision,
      );
      return true;
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      return false;
    }
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
    const kv = await this.kv.bucket(MESSAGE_FALLBACK_BUCKET, {
      ttlMs: intervalMs,
      maxEntries: FALLBACK_GATE_KEYS_MAX,
      whenFull: 'forget-oldest',
    });
    const key = `f.${kvToken(virtualNumber)}.${kvToken(sender)}`;
    if (await createIfAbsent(kv, key, kvEncode(messageKey))) return true;
    const entry = await kv.get(key);
    return !!entry && entry.operation === 'PUT' && kvDecode<string>(entry.value) === messageKey;
  }
}
