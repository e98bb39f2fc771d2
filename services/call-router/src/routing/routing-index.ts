import { Injectable } from '@nestjs/common';
import type { RoutingSession } from '@maskline/contracts';
import { FairShares } from '@maskline/resilience';
import { InternedSettings } from './interned-settings';
import { InternedValues } from './interned-values';
import {
  packE164,
  packTime,
  packUuid,
  stringHash,
  unpackE164,
  unpackTime,
  unpackUuid,
} from './packed-values';
import { EMPTY, SlotTable, mixHash } from './slot-table';

/** A session is one 88-byte record: six doubles, then ten 32-bit integers. */
const RECORD_BYTES = 88;
const DOUBLES = RECORD_BYTES / 8;
const INTS = RECORD_BYTES / 4;
// Doubles.
const EXPIRES = 0; // epoch ms, as Date.parse reads expiresAt
const CREATED = 1;
const MODIFIED = 2; // 0 when absent, so that any view is newer
const FIRST_PARTY = 3; // a party as a key (see keyOf); 0 for null
const SECOND_PARTY = 4;
const NUMBER_KEY = 5; // the virtual number as a key, as parties are
// Integers.
const NUMBER = 12; // id in virtualNumbers
const OWNER = 13; // id in owners
const SETTINGS = 14; // id in settings
const FLAGS = 15;
const PREVIOUS_ON_NUMBER = 16; // slot, or -1
const NEXT_ON_NUMBER = 17;
const ID = 18; // the session id as four words (packUuid)

const LIVE = 1;
const HAS_MODIFIED = 2;
/** The field was not written as unpackTime/unpackUuid writes it: `exceptions` holds the text. */
const KEPT_AS_WRITTEN = { [EXPIRES]: 4, [CREATED]: 8, [MODIFIED]: 16, [ID]: 32 } as const;
/** Where `exceptions` keeps a slot's field: slot × 32 + field. */
const exceptionKey = (slot: number, field: number) => slot * 32 + field;

interface Owner {
  accountId: string;
  subaccountId: string | null;
  /** The Twilio Proxy Service of the session, for one made through that API. */
  proxyServiceSid?: string;
}

/**
 * This replica's in-memory view of live sessions, by virtual number: fed by session events and a
 * snapshot at start (RoutingIndexFeeder). A miss falls back to the store (SessionFinder).
 *
 * A replica holds up to a million sessions, so none is kept as the object it came in, nor as any
 * object: a session is an 88-byte record in one ArrayBuffer (its id as four words, times as epoch
 * ms, E.164 numbers as integers, and ids of its virtual number, owner and settings, each of which
 * is kept once however many sessions share it). Sessions on a number form a linked list, in the
 * order they were last upserted; two open-addressing tables find a session by id and by
 * (number, party), so a caller's session is found without reading the number's others. About
 * 145 bytes a session in all, none of it for the GC to trace (see services/call-router/bench).
 * Reads give back a fresh RoutingSession equal to the one stored; sessions with the same
 * settings share one (frozen) settings object.
 */
@Injectable()
export class RoutingIndex {
  private records = new ArrayBuffer(0);
  private doubles = new Float64Array(this.records);
  private ints = new Int32Array(this.records);
  private slotCount = 0;
  private readonly freeSlots: number[] = [];
  private liveCount = 0;

  private readonly virtualNumbers = new InternedValues<string>();
  private readonly owners = new InternedValues<Owner>();
  private readonly settings = new InternedSettings();
  /** First and last session on each virtual number, by the number's id. */
  private firstOnNumber = new Int32Array(0);
  private lastOnNumber = new Int32Array(0);
  /** Slots by session id (ids packUuid takes). */
  private readonly byId = new SlotTable((slot) => this.idHash(slot));
  /**
   * Slot × 2 + (0 for the first party, 1 for the second), by (number, party): both as keys, so
   * that a lookup reads nothing but this table and the session's record.
   */
  private readonly byParty = new SlotTable((entry) =>
    partyHash(
      this.doubles[(entry >> 1) * DOUBLES + NUMBER_KEY],
      this.doubles[(entry >> 1) * DOUBLES + FIRST_PARTY + (entry & 1)],
    ),
  );
  /** Slots of sessions whose id packUuid does not take (not lower case), by id. Rare. */
  private readonly byOtherId = new Map<string, number>();
  /** Fields kept as written (see KEPT_AS_WRITTEN), and parties that are not E.164. Rare. */
  private readonly exceptions = new Map<number, string>();
  /** A scratch record for packing an id that is looked up. */
  private readonly lookupId = new Int32Array(4);

  /**
   * Sessions heard to have ended, by account: an ended session never comes back. Past
   * `maxEndedRemembered`, the account remembering the most forgets its oldest end, so one tenant
   * ending sessions in bulk cannot make another's ended sessions routable again by a late view.
   */
  private ended?: FairShares<true>;
  ready = false;
  /** How many ended sessions are remembered (about a day of ends at one per second); set before the first end. */
  maxEndedRemembered = 100_000;

  upsert(session: RoutingSession): void {
    const packedModified = session.modifiedAt ? packTime(session.modifiedAt) : undefined;
    const modified = session.modifiedAt ? (packedModified ?? Date.parse(session.modifiedAt)) : 0;
    const idPacked = packUuid(session.sessionId, this.lookupId, 0);
    const held = this.slotOfPacked(session.sessionId, idPacked);
    if ((held === -1 ? -1 : this.doubles[held * DOUBLES + MODIFIED]) > modified) return;
    if (held !== -1) this.removeSlot(held, session.sessionId);
    if (session.status !== 'active' || this.ended?.get(session.accountId, session.sessionId)) return;
    this.store(session, modified, packedModified !== undefined, idPacked);
  }

  /** The session ended (expired or deleted): out of the index, and no later view brings it back. */
  end(accountId: string, sessionId: string): void {
    this.remove(sessionId);
    this.ended ??= new FairShares<true>(this.maxEndedRemembered);
    this.ended.set(accountId, sessionId, true);
  }

  remove(sessionId: string): void {
    const slot = this.slotOf(sessionId);
    if (slot !== -1) this.removeSlot(slot, sessionId);
  }

  /** Live sessions on the number, as far as this replica knows (expired ones are skipped). */
  on(virtualNumber: string, now = Date.now()): RoutingSession[] {
    const numberId = this.virtualNumbers.idOf(virtualNumber);
    const live: RoutingSession[] = [];
    if (numberId === undefined) return live;
    for (
      let slot = this.firstOnNumber[numberId];
      slot !== -1;
      slot = this.ints[slot * INTS + NEXT_ON_NUMBER]
    ) {
      if (this.doubles[slot * DOUBLES + EXPIRES] > now) live.push(this.sessionAt(slot));
    }
    return live;
  }

  /** Whether some live session is on the number: on(virtualNumber).length > 0, reading up to the first. */
  hasLiveOn(virtualNumber: string, now = Date.now()): boolean {
    const numberId = this.virtualNumbers.idOf(virtualNumber);
    if (numberId === undefined) return false;
    for (
      let slot = this.firstOnNumber[numberId];
      slot !== -1;
      slot = this.ints[slot * INTS + NEXT_ON_NUMBER]
    ) {
      if (this.doubles[slot * DOUBLES + EXPIRES] > now) return true;
    }
    return false;
  }

  /**
   * Live sessions on the number in which this phone is the first or the second party, in the
   * order on() gives them: on(virtualNumber) filtered by party, without reading the number's others.
   */
  partyOn(virtualNumber: string, party: string, now = Date.now()): RoutingSession[] {
    const number = keyOf(virtualNumber);
    const key = keyOf(party);
    const slots: number[] = [];
    const table = this.byParty;
    const hash = partyHash(number, key);
    for (let at = table.home(hash); table.entryAt(at) !== EMPTY; at = table.after(at)) {
      if (table.hashAt(at) !== hash) continue;
      const entry = table.entryAt(at);
      const slot = entry >> 1;
      const field = FIRST_PARTY + (entry & 1);
      const n = slot * DOUBLES;
      if (
        this.doubles[n + NUMBER_KEY] === number &&
        this.doubles[n + field] === key &&
        (number > 0 || this.virtualNumbers.value(this.ints[slot * INTS + NUMBER]) === virtualNumber) &&
        (key > 0 || this.exceptions.get(exceptionKey(slot, field)) === party) &&
        this.doubles[n + EXPIRES] > now &&
        !slots.includes(slot)
      ) {
        slots.push(slot);
      }
    }
    // Two live sessions with one party on a number break the allocator's rule; answer as on() would.
    const ordered = slots.length > 1 ? this.inListOrder(this.ints[slots[0] * INTS + NUMBER], slots) : slots;
    return ordered.map((slot) => this.sessionAt(slot));
  }

  get(sessionId: string): RoutingSession | undefined {
    const slot = this.slotOf(sessionId);
    return slot === -1 ? undefined : this.sessionAt(slot);
  }

  /** Makes the index hold exactly these live sessions on the number (a fresh read from the store). */
  replaceNumber(virtualNumber: string, sessions: RoutingSession[]): void {
    const numberId = this.virtualNumbers.idOf(virtualNumber);
    const held: string[] = [];
    if (numberId !== undefined) {
      for (
        let slot = this.firstOnNumber[numberId];
        slot !== -1;
        slot = this.ints[slot * INTS + NEXT_ON_NUMBER]
      ) {
        held.push(this.sessionIdAt(slot));
      }
    }
    for (const id of held) this.remove(id);
    for (const s of sessions) this.upsert(s);
  }

  /** Drops every session the predicate rejects (after a reload: those the store no longer has). */
  retainOnly(keep: (sessionId: string) => boolean): void {
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (!(this.ints[slot * INTS + FLAGS] & LIVE)) continue;
      const id = this.sessionIdAt(slot);
      if (!keep(id)) this.remove(id);
    }
  }

  get size(): number {
    return this.liveCount;
  }

  private removeSlot(slot: number, sessionId: string): void {
    const i = slot * INTS;
    const flags = this.ints[i + FLAGS];
    // Out of the tables first: they read the record to find the entries.
    if (flags & KEPT_AS_WRITTEN[ID]) this.byOtherId.delete(sessionId);
    else this.byId.delete(slot);
    for (const which of [0, 1] as const) {
      const key = this.doubles[slot * DOUBLES + FIRST_PARTY + which];
      if (key !== 0) this.byParty.delete(slot * 2 + which);
      if (key < 0) this.exceptions.delete(exceptionKey(slot, FIRST_PARTY + which));
    }
    for (const field of [EXPIRES, CREATED, MODIFIED, ID] as const) {
      if (flags & KEPT_AS_WRITTEN[field]) this.exceptions.delete(exceptionKey(slot, field));
    }
    const numberId = this.ints[i + NUMBER];
    const previous = this.ints[i + PREVIOUS_ON_NUMBER];
    const next = this.ints[i + NEXT_ON_NUMBER];
    if (previous === -1) this.firstOnNumber[numberId] = next;
    else this.ints[previous * INTS + NEXT_ON_NUMBER] = next;
    if (next === -1) this.lastOnNumber[numberId] = previous;
    else this.ints[next * INTS + PREVIOUS_ON_NUMBER] = previous;
    this.virtualNumbers.release(numberId);
    this.owners.release(this.ints[i + OWNER]);
    this.settings.release(this.ints[i + SETTINGS]);
    this.ints[i + FLAGS] = 0;
    this.freeSlots.push(slot);
    this.liveCount--;
  }

  private slotOf(sessionId: string): number {
    return this.slotOfPacked(sessionId, packUuid(sessionId, this.lookupId, 0));
  }

  /** The slot of the id, which packUuid has just written into lookupId if it took it. */
  private slotOfPacked(sessionId: string, idPacked: boolean): number {
    if (!idPacked) return this.byOtherId.get(sessionId) ?? -1;
    const id = this.lookupId;
    const [a, b, c, d] = [id[0], id[1], id[2], id[3]];
    const table = this.byId;
    const hash = mixHash(a, b, c, d);
    for (let at = table.home(hash); table.entryAt(at) !== EMPTY; at = table.after(at)) {
      if (table.hashAt(at) !== hash) continue;
      const slot = table.entryAt(at);
      const i = slot * INTS + ID;
      if (this.ints[i] === a && this.ints[i + 1] === b && this.ints[i + 2] === c && this.ints[i + 3] === d) {
        return slot;
      }
    }
    return -1;
  }

  private idHash(slot: number): number {
    const i = slot * INTS + ID;
    return mixHash(this.ints[i], this.ints[i + 1], this.ints[i + 2], this.ints[i + 3]);
  }

  /** The slots, in the order of the number's list. */
  private inListOrder(numberId: number, slots: number[]): number[] {
    const ordered: number[] = [];
    for (
      let slot = this.firstOnNumber[numberId];
      slot !== -1;
      slot = this.ints[slot * INTS + NEXT_ON_NUMBER]
    ) {
      if (slots.includes(slot)) ordered.push(slot);
    }
    return ordered;
  }

  /** A new record for the session; its id is in lookupId when idPacked (see upsert). */
  private store(s: RoutingSession, modified: number, modifiedPacked: boolean, idPacked: boolean): void {
    const slot = this.freeSlots.pop() ?? this.newSlot();
    const i = slot * INTS;
    const n = slot * DOUBLES;
    let flags = LIVE | (s.modifiedAt === undefined ? 0 : HAS_MODIFIED);
    if (idPacked) this.ints.set(this.lookupId, i + ID);
    else {
      this.ints.fill(0, i + ID, i + ID + 4);
      flags |= this.keepAsWritten(slot, ID, s.sessionId);
    }
    flags |= this.storeTime(slot, EXPIRES, s.expiresAt);
    flags |= this.storeTime(slot, CREATED, s.createdAt);
    this.doubles[n + MODIFIED] = modified;
    if (s.modifiedAt !== undefined && !modifiedPacked)
      flags |= this.keepAsWritten(slot, MODIFIED, s.modifiedAt);
    this.ints[i + FLAGS] = flags;

    const numberId = this.virtualNumbers.hold(s.virtualNumber, () => s.virtualNumber);
    if (numberId >= this.firstOnNumber.length) this.growNumbers(numberId + 1);
    this.ints[i + NUMBER] = numberId;
    this.doubles[n + NUMBER_KEY] = keyOf(s.virtualNumber);
    // With its Proxy Service, if any: one interned value per owner and Service.
    const owner = {
      accountId: s.accountId,
      subaccountId: s.subaccountId,
      proxyServiceSid: s.proxyServiceSid,
    };
    this.ints[i + OWNER] = this.owners.hold(
      `${owner.accountId}/${owner.subaccountId ?? ''}/${owner.proxyServiceSid ?? ''}`,
      () => owner,
    );
    this.ints[i + SETTINGS] = this.settings.hold(s.settings);
    this.doubles[n + FIRST_PARTY] = s.firstParty === null ? 0 : keyOf(s.firstParty);
    this.doubles[n + SECOND_PARTY] = s.secondParty === null ? 0 : keyOf(s.secondParty);

    // Last on its number: on() lists the number's sessions in the order they were (last) upserted.
    const last = this.lastOnNumber[numberId];
    this.ints[i + PREVIOUS_ON_NUMBER] = last;
    this.ints[i + NEXT_ON_NUMBER] = -1;
    if (last === -1) this.firstOnNumber[numberId] = slot;
    else this.ints[last * INTS + NEXT_ON_NUMBER] = slot;
    this.lastOnNumber[numberId] = slot;

    // Into the tables once the record is complete: they read it.
    if (flags & KEPT_AS_WRITTEN[ID]) this.byOtherId.set(s.sessionId, slot);
    else this.byId.add(slot);
    for (const [which, party] of [s.firstParty, s.secondParty].entries()) {
      if (party === null) continue;
      if (this.doubles[n + FIRST_PARTY + which] < 0)
        this.exceptions.set(exceptionKey(slot, FIRST_PARTY + which), party);
      this.byParty.add(slot * 2 + which);
    }
    this.liveCount++;
  }

  /** The time as epoch ms; its flag when it must also be kept as written. */
  private storeTime(slot: number, field: typeof EXPIRES | typeof CREATED, text: string): number {
    const packed = packTime(text);
    // As Date.parse reads it, for the comparisons; packTime reads the form session-service writes, faster.
    this.doubles[slot * DOUBLES + field] = packed ?? Date.parse(text);
    return packed === undefined ? this.keepAsWritten(slot, field, text) : 0;
  }

  private keepAsWritten(slot: number, field: keyof typeof KEPT_AS_WRITTEN, text: string): number {
    this.exceptions.set(exceptionKey(slot, field), text);
    return KEPT_AS_WRITTEN[field];
  }

  private sessionAt(slot: number): RoutingSession {
    const i = slot * INTS;
    const flags = this.ints[i + FLAGS];
    const sessionId = this.sessionIdAt(slot);
    const { accountId, subaccountId, proxyServiceSid } = this.owners.value(this.ints[i + OWNER]);
    const proxy = proxyServiceSid ? { proxyServiceSid } : {};
    const virtualNumber = this.virtualNumbers.value(this.ints[i + NUMBER]);
    const firstParty = this.party(slot, FIRST_PARTY);
    const secondParty = this.party(slot, SECOND_PARTY);
    const expiresAt = this.time(slot, EXPIRES, flags);
    const createdAt = this.time(slot, CREATED, flags);
    const settings = this.settings.value(this.ints[i + SETTINGS]);
    // Written out twice so that the fields keep the contract's order.
    return flags & HAS_MODIFIED
      ? {
          sessionId,
          accountId,
          subaccountId,
          virtualNumber,
          firstParty,
          secondParty,
          status: 'active',
          expiresAt,
          createdAt,
          modifiedAt: this.time(slot, MODIFIED, flags),
          settings,
          ...proxy,
        }
      : {
          sessionId,
          accountId,
          subaccountId,
          virtualNumber,
          firstParty,
          secondParty,
          status: 'active',
          expiresAt,
          createdAt,
          settings,
          ...proxy,
        };
  }

  private sessionIdAt(slot: number): string {
    return this.ints[slot * INTS + FLAGS] & KEPT_AS_WRITTEN[ID]
      ? (this.exceptions.get(exceptionKey(slot, ID)) as string)
      : unpackUuid(this.ints, slot * INTS + ID);
  }

  private party(slot: number, field: number): string | null {
    const key = this.doubles[slot * DOUBLES + field];
    if (key > 0) return unpackE164(key);
    return key === 0 ? null : (this.exceptions.get(exceptionKey(slot, field)) as string);
  }

  private time(slot: number, field: 0 | 1 | 2, flags: number): string {
    return flags & KEPT_AS_WRITTEN[field]
      ? (this.exceptions.get(exceptionKey(slot, field)) as string)
      : unpackTime(this.doubles[slot * DOUBLES + field]);
  }

  private newSlot(): number {
    const slot = this.slotCount++;
    if (this.slotCount * RECORD_BYTES > this.records.byteLength) {
      const capacity = Math.max(1024, Math.ceil(this.slotCount * 1.5));
      const records = new ArrayBuffer(capacity * RECORD_BYTES);
      new Uint8Array(records).set(new Uint8Array(this.records));
      this.records = records;
      this.doubles = new Float64Array(records);
      this.ints = new Int32Array(records);
    }
    return slot;
  }

  private growNumbers(needed: number): void {
    const capacity = Math.max(256, needed, Math.ceil(this.firstOnNumber.length * 1.5));
    const first = new Int32Array(capacity).fill(-1);
    first.set(this.firstOnNumber);
    this.firstOnNumber = first;
    const last = new Int32Array(capacity).fill(-1);
    last.set(this.lastOnNumber);
    this.lastOnNumber = last;
  }
}

/**
 * A phone number (a party, or the virtual number) as one number: an E.164 number is the integer
 * of its digits (> 0); anything else (a redacted digest) is minus one minus its hash, which only
 * says where to look (the text is kept: a party's in `exceptions`, the number's in virtualNumbers).
 */
function keyOf(phone: string): number {
  return packE164(phone) ?? -1 - stringHash(phone);
}

function partyHash(numberKey: number, partyKey: number): number {
  return mixHash(
    numberKey >>> 0,
    Math.floor(numberKey / 4294967296),
    partyKey >>> 0,
    Math.floor(partyKey / 4294967296),
  );
}
