import type { KV } from 'nats';
import type { Logger } from 'pino';
import { KvMirror, type KvMirrorOptions } from '@maskline/messaging';
import { LIVE, type PinRegistration } from './pin-registration';

/** Live registrations, one entry per digest (`pin.<digest>`), and the backfill marker (`meta.backfilled`). */
export const LIVE_PINS_BUCKET = 'maskline-pin-live';

/** A live registration as the bucket holds it: the record's fields, dates as ISO strings. Never a PIN. */
export type LivePinEntry = Omit<PinRegistration, 'liveMarker' | 'retiredAt' | 'createdAt'> & {
  createdAt: string;
};

export interface BackfillMarker {
  backfilledAt: string;
}

export const BACKFILL_MARKER_KEY = 'meta.backfilled';

export function livePinKey(digest: string): string {
  return `pin.${digest}`;
}

export function toLivePinEntry(r: PinRegistration): LivePinEntry {
  return {
    _id: r._id,
    accountId: r.accountId,
    sessionId: r.sessionId,
    party: r.party,
    virtualNumber: r.virtualNumber,
    digest: r.digest,
    pinLength: r.pinLength,
    slot: r.slot,
    sealed: r.sealed,
    createdAt: new Date(r.createdAt).toISOString(),
  };
}

function toRegistration(e: LivePinEntry): PinRegistration {
  return { ...e, createdAt: new Date(e.createdAt), liveMarker: LIVE, retiredAt: null };
}

const isPin = (key: string) => key.startsWith('pin.');

/**
 * This replica's copy of the live registrations (a KvMirror of the bucket), indexed the ways the
 * registry asks: by digest (verification), by session (reveal, release, idempotent register), and
 * the slots held per number and PIN length (the density cap's candidates). Every lookup is a map
 * read, whatever the number of registrations live or ever made.
 */
export class LivePinView {
  readonly mirror: KvMirror<LivePinEntry | BackfillMarker>;
  private readonly bySession = new Map<string, Set<string>>();
  /** Per number and length: slot → how many entries hold it (two may, for the moment a race lasts). */
  private readonly slots = new Map<string, Map<number, number>>();

  constructor(kv: () => Promise<KV>, readFromLeader: KvMirrorOptions['readFromLeader'], logger: Logger) {
    this.mirror = new KvMirror<LivePinEntry | BackfillMarker>(
      kv,
      { what: 'live PINs', catchUpTimeoutMs: 60_000, readFromLeader },
      logger,
      (key, now, before) => {
        if (!isPin(key)) return;
        if (before) this.unindex(key, before as LivePinEntry);
        if (now) this.index(key, now as LivePinEntry);
      },
    );
  }

  get ready(): boolean {
    return this.mirror.ready;
  }

  byDigest(digest: string): { registration: PinRegistration; revision: number } | undefined {
    const hit = this.mirror.get(livePinKey(digest));
    return hit
      ? { registration: toRegistration(hit.value as LivePinEntry), revision: hit.revision }
      : undefined;
  }

  /** Every live registration this copy holds, with the revision it was written at. */
  *all(): IterableIterator<{ key: string; registration: PinRegistration; revision: number }> {
    for (const [key, hit] of this.mirror.values()) {
      if (isPin(key))
        yield { key, registration: toRegistration(hit.value as LivePinEntry), revision: hit.revision };
    }
  }

  forSession(accountId: string, sessionId: string): PinRegistration[] {
    const out: PinRegistration[] = [];
    for (const key of this.bySession.get(sessionKey(accountId, sessionId)) ?? []) {
      const hit = this.mirror.get(key);
      if (hit) out.push(toRegistration(hit.value as LivePinEntry));
    }
    return out;
  }

  slotsOn(virtualNumber: string, pinLength: number): number[] {
    return [...(this.slots.get(slotsKey(virtualNumber, pinLength))?.keys() ?? [])];
  }

  /** Whether another live entry than `digest`'s holds this slot. */
  slotHeldByOther(virtualNumber: string, pinLength: number, slot: number, digest: string): boolean {
    const holders = this.slots.get(slotsKey(virtualNumber, pinLength))?.get(slot) ?? 0;
    const mine = this.byDigest(digest)?.registration.slot === slot ? 1 : 0;
    return holders - mine > 0;
  }

  get backfilled(): boolean {
    return this.mirror.get(BACKFILL_MARKER_KEY) !== undefined;
  }

  private index(key: string, e: LivePinEntry): void {
    const s = sessionKey(e.accountId, e.sessionId);
    const keys = this.bySession.get(s) ?? new Set<string>();
    keys.add(key);
    this.bySession.set(s, keys);
    const n = slotsKey(e.virtualNumber, e.pinLength);
    const held = this.slots.get(n) ?? new Map<number, number>();
    held.set(e.slot, (held.get(e.slot) ?? 0) + 1);
    this.slots.set(n, held);
  }

  private unindex(key: string, e: LivePinEntry): void {
    const s = sessionKey(e.accountId, e.sessionId);
    const keys = this.bySession.get(s);
    keys?.delete(key);
    if (keys?.size === 0) this.bySession.delete(s);
    const n = slotsKey(e.virtualNumber, e.pinLength);
    const held = this.slots.get(n);
    const count = (held?.get(e.slot) ?? 0) - 1;
    if (count > 0) held?.set(e.slot, count);
    else held?.delete(e.slot);
    if (held?.size === 0) this.slots.delete(n);
  }
}

function sessionKey(accountId: string, sessionId: string): string {
  return `${accountId}|${sessionId}`;
}

function slotsKey(virtualNumber: string, pinLength: number): string {
  return `${virtualNumber}|${pinLength}`;
}
