import { Injectable } from '@nestjs/common';
import { KeyValueStores, createIfAbsent, kvDecode, kvEncode } from '@maskline/messaging';

export type Role = 'first' | 'second';

/**
 * Where the call to a session's first party stands: claimed by a try that is placing it, placed
 * (the provider took it), or given up (and announced).
 */
export type OutboundClaim = 'placing' | 'placed' | 'given-up';

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

  /** Single-party sessions: the number of the last person the registered party talked to. */
  async bind(sessionId: string, number: string): Promise<void> {
    await (await this.bucket()).put(`b.${sessionId}`, kvEncode(number));
  }

  /**
   * initiate_call_to_first_party places one call per session, however often the event is
   * delivered: the first to create the key places it (compare-and-set in KV). Otherwise, where the
   * call stands: `placing` is a claim an earlier try never settled. A claim of an earlier release
   * (a time, no state) counts as placed, as it did then.
   */
  async claimOutbound(
    sessionId: string,
  ): Promise<{ claimed: true } | { claimed: false; state: OutboundClaim }> {
    const bucket = await this.bucket();
    const key = `o.${sessionId}`;
    const claim = kvEncode({ state: 'placing', at: new Date().toISOString() });
    // Twice: a claim given back between the create and the read is taken anew.
    for (let i = 0; i < 2; i++) {
      if (await createIfAbsent(bucket, key, claim)) return { claimed: true };
      const e = await bucket.get(key);
      if (e && e.operation === 'PUT') {
        const held = kvDecode<{ state: OutboundClaim } | string>(e.value);
        return { claimed: false, state: held && typeof held === 'object' ? held.state : 'placed' };
      }
    }
    return { claimed: false, state: 'placing' };
  }

  /** The claimed call was placed, or given up: a later delivery of its event ends quietly. */
  async settleOutbound(sessionId: string, state: Exclude<OutboundClaim, 'placing'>): Promise<void> {
    await (await this.bucket()).put(`o.${sessionId}`, kvEncode({ state, at: new Date().toISOString() }));
  }

  /** The provider did not take the call (it answered 5xx/429): a retry may place it. */
  async releaseOutbound(sessionId: string): Promise<void> {
    await (await this.bucket()).delete(`o.${sessionId}`);
  }

  async boundTo(sessionId: string): Promise<string | null> {
    const e = await (await this.bucket()).get(`b.${sessionId}`);
    return e && e.operation === 'PUT' ? kvDecode<string>(e.value) : null;
  }
}

function callKey(virtualNumber: string, callId: string): string {
  return `c.${safe(virtualNumber)}.${safe(callId)}`;
}

/** KV keys allow letters, digits and `-/_=.`. */
function safe(id: string): string {
  return id.replace(/[^A-Za-z0-9_=-]/g, '_');
}
