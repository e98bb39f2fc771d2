import { Inject, Injectable } from '@nestjs/common';
import type { KV } from 'nats';
import { CodedError, SessionErrorCodes, type AccountScope } from '@maskline/contracts';
import {
  KeyValueStores,
  createIfAbsent,
  isWrongLastSequence,
  kvDecode,
  kvEncode,
  kvToken,
} from '@maskline/messaging';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';
import { StoredIdempotencyKeys } from './stored-idempotency-keys';

export type IdempotencyClaim =
  | { kind: 'new'; sessionId: string }
  | { kind: 'existing'; sessionId: string; claimedAt: Date };

/** One key per account (or subaccount) and client key: the request it was first used with. */
export const IDEMPOTENCY_KEY_BUCKET = 'maskline-idempotency-keys';

/** What a key holds. */
export interface HeldKey {
  /** SHA-256 of the request body as the gateway normalised it. */
  requestHash: string;
  sessionId: string;
  /** When it was claimed (epoch ms). */
  createdAt: number;
}

/**
 * How long the store must have held none of an earlier version's keys before they are no longer
 * looked for: a rolling upgrade's old replicas may still be writing some while the new ones start.
 */
const STORE_KEYS_SEEN_WITHIN_MS = 10 * 60_000;
/** What an upgrade has finished with, for good (no age). */
export const UPGRADES_BUCKET = 'maskline-upgrades';
/** Since when (epoch ms) the store has held no Idempotency-Keys. */
const STORE_KEYS_NONE_SINCE = 'idempotency-store-keys.none-since';

/**
 * `Idempotency-Key` on create: the first request with a key reserves it; a retry with the same
 * body gets the same session; the same key with another body is refused. In NATS KV: an atomic
 * create (one winner of racing retries), a read by key, the same cost at any size (in the store
 * each claim was an insert, and each retry a scan of a day's keys on FerretDB). Kept
 * IDEMPOTENCY_RETENTION_MS: the bucket's age, and a key older than that (the setting shortened
 * since) counts as free.
 */
@Injectable()
export class IdempotencyKeys {
  /** The store holds no earlier version's keys, and none will come (decided for good). */
  private storeKeysGone = false;
  private storeKeysLook?: Promise<void>;
  private lastStoreLook = 0;

  constructor(
    private readonly kv: KeyValueStores,
    private readonly stored: StoredIdempotencyKeys,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
  ) {
    kv.declare(IDEMPOTENCY_KEY_BUCKET, { ttlMs: config.IDEMPOTENCY_RETENTION_MS });
    kv.declare(UPGRADES_BUCKET);
  }

  private bucket(): Promise<KV> {
    return this.kv.bucket(IDEMPOTENCY_KEY_BUCKET, { ttlMs: this.config.IDEMPOTENCY_RETENTION_MS });
  }

  async claim(
    scope: AccountScope,
    idem: { key: string; requestHash: string },
    sessionId: string,
    nowMs = Date.now(),
  ): Promise<IdempotencyClaim> {
    const id = keyId(scope, idem.key);
    const kv = await this.bucket();
    const mine: HeldKey = { requestHash: idem.requestHash, sessionId, createdAt: nowMs };
    for (let tryNo = 1; tryNo <= 3; tryNo++) {
      const entry = await kv.get(kvKey(id));
      const held = entry?.operation === 'PUT' ? kvDecode<HeldKey>(entry.value) : null;
      if (held && nowMs - held.createdAt < this.config.IDEMPOTENCY_RETENTION_MS) return answer(held, idem);
      // Free (never used, forgotten, or past retention): an earlier version's key in the store first.
      const legacy = await this.storedKey(scope, id);
      const value = legacy ?? mine;
      try {
        if (entry) await kv.update(kvKey(id), kvEncode(value), entry.revision);
        else await kv.create(kvKey(id), kvEncode(value));
      } catch (err) {
        // Another request with this key got there first: read what it wrote.
        if (isWrongLastSequence(err)) continue;
        throw err;
      }
      return legacy ? answer(legacy, idem) : { kind: 'new', sessionId };
    }
    throw new CodedError(
      SessionErrorCodes.IDEMPOTENCY_IN_PROGRESS,
      'a request with this Idempotency-Key is still being processed; retry shortly',
      { retryable: true },
    );
  }

  /**
   * A failed creation frees its key, so the client can retry with it: only while the key still
   * names that creation's session. A retry may have claimed the key afresh meanwhile (it found the
   * creation dead and fenced it); the late failure of the first must not free the retry's claim.
   */
  async forget(scope: AccountScope, key: string, sessionId: string): Promise<void> {
    const id = keyId(scope, key);
    const kv = await this.bucket();
    const entry = await kv.get(kvKey(id));
    const held = entry?.operation === 'PUT' ? kvDecode<HeldKey>(entry.value) : null;
    if (entry && held?.sessionId === sessionId) {
      try {
        await kv.delete(kvKey(id), { previousSeq: entry.revision });
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
    }
    // Taken from the store by this version (`storedKey`): freed there too, or it would come back.
    if (this.mayHoldStoreKeys()) await this.stored.forget(id, sessionId);
  }

  /** An earlier version's key for `id` in the store, while the store may still hold some. */
  private async storedKey(scope: AccountScope, id: string): Promise<HeldKey | null> {
    if (!this.mayHoldStoreKeys()) return null;
    const doc = await this.stored.own(scope, id);
    if (!doc) return null;
    // A key of release 0.1.0 may carry no time: as old as can be (a dead creation is then taken over at once).
    return {
      requestHash: doc.requestHash,
      sessionId: doc.sessionId,
      createdAt: doc.createdAt?.getTime() ?? 0,
    };
  }

  /**
   * Whether the store may hold an earlier version's keys. Decided once for good when the store has
   * held none for STORE_KEYS_SEEN_WITHIN_MS (across replicas: a marker in KV, kept without an age);
   * until then looked at once a minute at most (a KV read and one document read), and the keys are
   * asked for meanwhile.
   */
  private mayHoldStoreKeys(): boolean {
    if (this.storeKeysGone) return false;
    const now = Date.now();
    if (!this.storeKeysLook && now - this.lastStoreLook >= 60_000) {
      this.lastStoreLook = now;
      this.storeKeysLook = this.lookAtStoreKeys(now)
        // KV or the store away: looked at again in a minute; meanwhile the keys are still asked for.
        .catch(() => undefined)
        .finally(() => (this.storeKeysLook = undefined));
    }
    return true;
  }

  private async lookAtStoreKeys(now: number): Promise<void> {
    const kv = await this.kv.bucket(UPGRADES_BUCKET);
    const entry = await kv.get(STORE_KEYS_NONE_SINCE);
    const noneSince = entry?.operation === 'PUT' ? kvDecode<number>(entry.value) : null;
    if (noneSince !== null && now - noneSince >= STORE_KEYS_SEEN_WITHIN_MS) {
      this.storeKeysGone = true;
      return;
    }
    if (await this.stored.anyLeft()) {
      if (entry?.operation === 'PUT') await kv.delete(STORE_KEYS_NONE_SINCE);
    } else if (noneSince === null) {
      await createIfAbsent(kv, STORE_KEYS_NONE_SINCE, kvEncode(now));
    }
  }
}

/** A retry of the request the key was first used with is given its session; another body is refused. */
function answer(held: HeldKey, idem: { requestHash: string }): IdempotencyClaim {
  if (held.requestHash !== idem.requestHash) {
    throw new CodedError(
      SessionErrorCodes.IDEMPOTENCY_MISMATCH,
      'Idempotency-Key was already used with a different request body',
      { field: 'Idempotency-Key' },
    );
  }
  return { kind: 'existing', sessionId: held.sessionId, claimedAt: new Date(held.createdAt) };
}

/**
 * Keys are the client's to choose, so each scope has its own: a subaccount's `order-1` is not its
 * sibling's (one would otherwise wait for ever on the other's session, which it may not see).
 */
function keyId(scope: AccountScope, key: string): string {
  return scope.subaccountId ? `${scope.accountId}/${scope.subaccountId}:${key}` : `${scope.accountId}:${key}`;
}

function kvKey(id: string): string {
  return `k.${kvToken(id)}`;
}
