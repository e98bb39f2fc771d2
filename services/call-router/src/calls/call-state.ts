import { Injectable } from '@nestjs/common';
import { KeyValueStores, createIfAbsent, kvDecode, kvEncode } from '@maskline/messaging';

export type Role = 'first' | 'second';

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
   * delivered: the first to create the key places it (compare-and-set in KV).
   */
  async claimOutbound(sessionId: string): Promise<boolean> {
    return createIfAbsent(await this.bucket(), `o.${sessionId}`, kvEncode(new Date().toISOString()));
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
