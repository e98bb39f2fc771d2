import { randomInt, randomUUID } from 'node:crypto';
import { CodedError, PinErrorCodes, type PartyRole } from '@maskline/contracts';
import { decryptSecret, encryptSecret, keyedDigest, type Keyring } from '@maskline/crypto';
import { generatePin } from '../generation/pin-generator';
import { LIVE, type PinRegistration, type PinRegistryStore } from './pin-registration';

export interface PinRegistryOptions {
  digestKey: Buffer;
  encryptionKeys: Keyring;
  /** At most cap × 10^L live PINs of length L per virtual number. */
  densityCap: number;
  /** Slots tried before a nearly full number is reported as at capacity. */
  maxSlotTries: number;
}

export type PinRequest =
  | { mode: 'supplied'; first: string; second: string }
  | { mode: 'generated'; length: number };

export interface SessionPinsRequest {
  accountId: string;
  sessionId: string;
  virtualNumber: string;
  pins: PinRequest;
}

const ROLES: PartyRole[] = ['first', 'second'];

/** Registers, finds, reveals and releases PINs. The store port's unique rules decide every race. */
export class PinRegistry {
  constructor(
    private readonly store: PinRegistryStore,
    private readonly options: PinRegistryOptions,
  ) {}

  digest(virtualNumber: string, pin: string): string {
    return keyedDigest(this.options.digestKey, 'pin', virtualNumber, pin);
  }

  /** How many live PINs of this length one number may carry. */
  capacity(length: number): number {
    return Math.floor(this.options.densityCap * 10 ** length);
  }

  /** Idempotent per session: a retry answers with the PINs registered the first time. */
  async register(request: SessionPinsRequest): Promise<Record<PartyRole, string>> {
    const { accountId } = request;
    const existing = await this.store.liveForSession(accountId, request.sessionId);
    if (existing.length === 2 && (await this.store.recorded(existing))) return this.reveal(existing);
    for (const partial of existing) await this.store.retire(accountId, partial, new Date());

    const created: PinRegistration[] = [];
    const pins = {} as Record<PartyRole, string>;
    try {
      for (const role of ROLES) {
        const other = role === 'first' ? undefined : pins.first;
        const registration = await this.registerOne(request, role, other);
        created.push(registration.registration);
        pins[role] = registration.pin;
      }
    } catch (err) {
      for (const r of created) await this.store.retire(accountId, r, new Date());
      throw err;
    }
    return pins;
  }

  async revealSession(sessionId: string, accountId: string): Promise<Record<PartyRole, string>> {
    const live = await this.store.liveForSession(accountId, sessionId);
    if (live.length !== 2) throw CodedError.notFound(`no PINs for session ${sessionId}`);
    return this.reveal(live);
  }

  /** The PINs of several sessions at once (a list page); sessions without both PINs live are left out. */
  async revealSessions(
    sessionIds: readonly string[],
    accountId: string,
  ): Promise<Record<string, Record<PartyRole, string>>> {
    const bySession = new Map<string, PinRegistration[]>();
    for (const r of await this.store.liveForSessions(accountId, sessionIds)) {
      bySession.set(r.sessionId, [...(bySession.get(r.sessionId) ?? []), r]);
    }
    const out: Record<string, Record<PartyRole, string>> = {};
    for (const [sessionId, live] of bySession) if (live.length === 2) out[sessionId] = this.reveal(live);
    return out;
  }

  async release(sessionId: string, accountId: string): Promise<number> {
    const live = await this.store.liveForSession(accountId, sessionId);
    const now = new Date();
    for (const r of live) await this.store.retire(accountId, r, now);
    return live.length;
  }

  /** The live registration for these digits on this number of this account, if any. */
  async find(accountId: string, virtualNumber: string, digits: string): Promise<PinRegistration | null> {
    if (!/^\d{4,15}$/.test(digits)) return null;
    const found = await this.store.liveByDigest(accountId, this.digest(virtualNumber, digits));
    return found && found.virtualNumber === virtualNumber ? found : null;
  }

  private reveal(live: PinRegistration[]): Record<PartyRole, string> {
    const out = {} as Record<PartyRole, string>;
    for (const r of live) out[r.party] = decryptSecret(this.options.encryptionKeys, r.sealed, sealContext(r));
    return out;
  }

  private async registerOne(request: SessionPinsRequest, role: PartyRole, other: string | undefined) {
    const { pins } = request;
    if (pins.mode === 'supplied') {
      const pin = pins[role];
      const outcome = await this.insertInSomeSlot(request, role, pin);
      if (outcome.kind === 'digest-taken') {
        throw new CodedError(
          PinErrorCodes.CONFLICT,
          `${role}_party_pin is already in use on virtual number ${request.virtualNumber}`,
          { field: `${role}_party_pin` },
        );
      }
      return { pin, registration: outcome.registration };
    }
    for (let tries = 0; tries < 50; tries++) {
      const pin = generatePin(pins.length, new Set(other ? [other] : []));
      const outcome = await this.insertInSomeSlot(request, role, pin);
      if (outcome.kind === 'inserted') return { pin, registration: outcome.registration };
    }
    throw new CodedError(PinErrorCodes.CAPACITY, `virtual number ${request.virtualNumber} has no free PIN`);
  }

  /**
   * Slots to try, at most PIN_MAX_SLOT_TRIES: the free ones in random order (one read instead of an
   * insert per taken slot; a full number fails at once), or, for capacities too large to list, a
   * run from a random start. Races with other replicas are settled by the unique slot index.
   */
  private async candidateSlots(
    virtualNumber: string,
    pinLength: number,
    capacity: number,
  ): Promise<number[]> {
    const limit = Math.min(capacity, this.options.maxSlotTries);
    if (capacity > ENUMERABLE_CAPACITY) {
      const start = randomInt(Math.min(capacity, 2 ** 47));
      return Array.from({ length: limit }, (_, i) => (start + i) % capacity);
    }
    const taken = new Set(await this.store.liveSlotsOnNumber(virtualNumber, pinLength));
    const free: number[] = [];
    for (let slot = 0; slot < capacity; slot++) if (!taken.has(slot)) free.push(slot);
    // Partial Fisher-Yates: the first `limit` entries are a uniform random sample.
    const n = Math.min(limit, free.length);
    for (let i = 0; i < n; i++) {
      const j = i + randomInt(free.length - i);
      [free[i], free[j]] = [free[j], free[i]];
    }
    return free.slice(0, n);
  }

  private async insertInSomeSlot(
    request: SessionPinsRequest,
    role: PartyRole,
    pin: string,
  ): Promise<{ kind: 'inserted'; registration: PinRegistration } | { kind: 'digest-taken' }> {
    const capacity = this.capacity(pin.length);
    const slots = await this.candidateSlots(request.virtualNumber, pin.length, capacity);
    for (const slot of slots) {
      const registration: PinRegistration = {
        _id: randomUUID(),
        accountId: request.accountId,
        sessionId: request.sessionId,
        party: role,
        virtualNumber: request.virtualNumber,
        digest: this.digest(request.virtualNumber, pin),
        pinLength: pin.length,
        slot,
        liveMarker: LIVE,
        sealed: { k: '', iv: '', ct: '', tag: '' },
        createdAt: new Date(),
        retiredAt: null,
      };
      registration.sealed = encryptSecret(this.options.encryptionKeys, pin, sealContext(registration));
      const outcome = await this.store.insert(registration);
      if (outcome === 'inserted') return { kind: 'inserted', registration };
      if (outcome === 'digest-taken') return { kind: 'digest-taken' };
    }
    throw new CodedError(
      PinErrorCodes.CAPACITY,
      `virtual number ${request.virtualNumber} carries the most ${pin.length}-digit PINs its density cap allows`,
      { details: { capacity, pinLength: pin.length } },
    );
  }
}

/** Slots up to this capacity are listed; beyond it a random run of slots is practically free. */
const ENUMERABLE_CAPACITY = 100_000;

function sealContext(r: Pick<PinRegistration, 'sessionId' | 'party'>): string {
  return `${r.sessionId}:${r.party}`;
}
