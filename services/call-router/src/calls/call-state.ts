import { Injectable } from '@nestjs/common';
import type { FirstPartyCallFailure } from '@maskline/contracts';
import { KeyValueStores, isWrongLastSequence, kvDecode, kvEncode, kvToken } from '@maskline/messaging';

export type Role = 'first' | 'second';

/**
 * Where the call to a session's first party stands, in its claim: claimed by a try that is placing
 * it, placed (the provider took it), or given up (with why, and whether its owner was told).
 */
export interface OutboundRecord {
  state: 'placing' | 'placed' | 'given-up';
  /** When it came to this state. */
  at: string;
  reason?: FirstPartyCallFailure;
  announced?: boolean;
  /** Whom the call is for: a give-up is told from it, whatever the session is by then. */
  whom?: OutboundParty;
}

/** The session's owner, number and first party: what SessionFirstPartyCallFailed names. */
export interface OutboundParty {
  accountId: string;
  sessionId: string;
  virtualNumber: string;
  firstParty: string;
}

/** A claim as read: what it says, its revision (to change it only if nobody else did), and when NATS stored it. */
export interface OutboundSeen {
  record: OutboundRecord;
  revision: number;
  storedAt: Date;
}

/** A call connected through a session: enough to name its later events. */
export interface ConnectedCall {
  sessionId: string;
  accountId: string;
  virtualNumber: string;
  callerRole: Role;
  calleeRole: Role;
  caller: string;
  callee: string;
  /** Set when the session records its calls. */
  recordFormat?: 'mp3' | 'wav';
}

/** Call context (for the provider's hangup callback, which carries no Maskline context) and single-party bindings. */
export const CALL_STATE_BUCKET = 'maskline-call-state';
const TTL_MS = 2 * 86400 * 1000;

@Injectable()
export class CallState {
  constructor(private readonly kv: KeyValueStores) {
    kv.declare(CALL_STATE_BUCKET, { ttlMs: TTL_MS, storageShare: 'callState' });
  }

  private bucket() {
    return this.kv.bucket(CALL_STATE_BUCKET);
  }

  /** Keyed by the virtual number too: a call id reported for another number finds nothing. */
  async remember(virtualNumber: string, callId: string, call: ConnectedCall): Promise<void> {
    await (await this.bucket()).put(callKey(virtualNumber, callId), kvEncode(call));
  }

  async connected(virtualNumber: string, callId: string): Promise<ConnectedCall | null> {
    const e = await (await this.bucket()).get(callKey(virtualNumber, callId));
    return e && e.operation === 'PUT' ? kvDecode<ConnectedCall>(e.value) : null;
  }

  /**
   * Single-party sessions: the number of the last person the registered party talked to (`boundTo`),
   * and that a session on `virtualNumber` was bound to it (`boundLately`, for the loop guard: a leg
   * Maskline places from the number may go there).
   */
  async bind(virtualNumber: string, sessionId: string, number: string): Promise<void> {
    const bucket = await this.bucket();
    await Promise.all([
      bucket.put(`b.${sessionId}`, kvEncode(number)),
      bucket.put(boundKey(virtualNumber, number), BOUND),
    ]);
  }

  /**
   * Whether a single-party session on `virtualNumber` was bound to `number` within the bucket's TTL
   * (two days since it last was): one read, however many sessions the number holds. Kept after the
   * session binds someone else: a call from the number to `number` is then taken for Maskline's own a
   * little longer than it could be one, which hangs up only calls Maskline would not place.
   */
  async boundLately(virtualNumber: string, number: string): Promise<boolean> {
    const e = await (await this.bucket()).get(boundKey(virtualNumber, number));
    return e?.operation === 'PUT';
  }

  /**
   * The claim of the call to the session's first party, or null when no try claimed it. A claim of
   * an earlier release (a time, no state) reads as placed, as that release read any claim.
   */
  async outbound(sessionId: string): Promise<OutboundSeen | null> {
    const e = await (await this.bucket()).get(outboundKey(sessionId));
    if (!e || e.operation !== 'PUT') return null;
    const held = kvDecode<OutboundRecord | string>(e.value);
    const record: OutboundRecord =
      held && typeof held === 'object' ? held : { state: 'placed', at: typeof held === 'string' ? held : '' };
    return { record, revision: e.revision, storedAt: e.created };
  }

  /**
   * initiate_call_to_first_party places one call per session, however often the event is
   * delivered: the first to create the key places it (compare-and-set in KV). Its revision, or
   * null when another try holds a claim.
   */
  async claimOutbound(whom: OutboundParty): Promise<number | null> {
    const record: OutboundRecord = { state: 'placing', at: new Date().toISOString(), whom };
    try {
      return await (await this.bucket()).create(outboundKey(whom.sessionId), kvEncode(record));
    } catch (err) {
      if (isWrongLastSequence(err)) return null;
      throw err;
    }
  }

  /**
   * Records how the call went: over the claim as it was read (`revision`), or as the first claim
   * (null: this try never saw one). Its new revision, or null when the claim changed meanwhile
   * (another try's).
   */
  async settleOutbound(
    sessionId: string,
    record: OutboundRecord,
    revision: number | null,
  ): Promise<number | null> {
    const bucket = await this.bucket();
    try {
      return revision === null
        ? await bucket.create(outboundKey(sessionId), kvEncode(record))
        : await bucket.update(outboundKey(sessionId), kvEncode(record), revision);
    } catch (err) {
      if (isWrongLastSequence(err)) return null;
      throw err;
    }
  }

  /**
   * The provider did not take the call (it answered 5xx/429, or was never reached): the claim held
   * at `revision` is given back, so a retry may place it; one changed meanwhile is left as it is.
   */
  async releaseOutbound(sessionId: string, revision: number): Promise<void> {
    try {
      await (await this.bucket()).delete(outboundKey(sessionId), { previousSeq: revision });
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
  }

  async boundTo(sessionId: string): Promise<string | null> {
    const e = await (await this.bucket()).get(`b.${sessionId}`);
    return e && e.operation === 'PUT' ? kvDecode<string>(e.value) : null;
  }
}

const BOUND = new Uint8Array([1]);

/** One per virtual number and whom a single-party session on it was bound to (`boundLately`). */
function boundKey(virtualNumber: string, number: string): string {
  return `d.${kvToken(virtualNumber)}.${kvToken(number)}`;
}

function outboundKey(sessionId: string): string {
  return `o.${sessionId}`;
}

function callKey(virtualNumber: string, callId: string): string {
  return `c.${safe(virtualNumber)}.${safe(callId)}`;
}

/** KV keys allow letters, digits and `-/_=.`. */
function safe(id: string): string {
  return id.replace(/[^A-Za-z0-9_=-]/g, '_');
}
