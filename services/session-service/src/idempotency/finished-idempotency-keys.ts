import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { KeyValueStores, isWrongLastSequence, kvDecode, kvEncode, kvToken } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';

/** One entry per Idempotency-Key whose creation finished: the session it made. */
export const FINISHED_IDEMPOTENCY_BUCKET = 'maskline-idempotency-finished';
/**
 * How long one read or write waits for JetStream, and asks again while it has no responders (a
 * stream leader being elected), inside the create's budget: past that the store answers, as it
 * would without this memory.
 */
const OP_TIMEOUT_MS = 1000;
const NO_RESPONDERS_WITHIN_MS = 500;
/** What a finished key holds: the claim as the store has it (the request's hash is a digest already). */
export interface FinishedKey {
  requestHash: string;
  sessionId: string;
  /** When the key was claimed (epoch ms). */
  claimedAt: number;
}

/**
 * Idempotency-Keys whose creation finished (its session stored with its number), in NATS KV: the
 * retry of a finished creation, the usual one (a client that timed out, or a network that dropped
 * the answer), is answered by one read by key, the same cost at any size. In the store that read
 * was a scan of a day's keys on FerretDB, when the client retries after a timeout.
 *
 * Only finished claims are written, and a finished claim does not change while its session is kept
 * (a key is freed only by a creation that failed, or judged dead with no session stored, and then
 * forgotten here first), so an entry is a fact, not a copy that may be stale: a read that finds
 * nothing, or fails, asks the store, which stays the claim's record (its unique insert is what
 * claims). Kept as long as the store's keys.
 */
@Injectable()
export class FinishedIdempotencyKeys {
  constructor(
    private readonly kv: KeyValueStores,
    @Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    kv.declare(FINISHED_IDEMPOTENCY_BUCKET, this.options());
  }

  /** The finished claim of the key (its id in the store), or null: not finished, not known, or not readable now. */
  async get(accountId: string, keyId: string): Promise<FinishedKey | null> {
    try {
      const entry = await (await this.bucket()).get(finishedKey(accountId, keyId));
      return entry && entry.operation === 'PUT' ? kvDecode<FinishedKey>(entry.value) : null;
    } catch (err) {
      this.logger.warn({ err }, 'finished Idempotency-Keys not readable; the store answers');
      return null;
    }
  }

  /** Remembers a finished claim. Best effort: one not remembered is read from the store. */
  async remember(accountId: string, keyId: string, finished: FinishedKey): Promise<void> {
    try {
      await (await this.bucket()).put(finishedKey(accountId, keyId), kvEncode(finished));
    } catch (err) {
      this.logger.warn({ err }, 'finished Idempotency-Key not remembered; its retries read the store');
    }
  }

  /**
   * Forgets the key's finished claim if it names `sessionId` (compare-and-set: a newer claim's entry
   * stays). A finished session is forgotten only once it is gone from the store (where sessions are
   * kept for less time than keys), and a retry then makes a new one. Best effort, like `remember`:
   * freeing the key in the store never fails for NATS (it waits at most OP_TIMEOUT_MS and
   * NO_RESPONDERS_WITHIN_MS). An entry left naming a session that is gone sends the next retry the
   * way of a dead creation's, which forgets it then.
   */
  async forget(accountId: string, keyId: string, sessionId: string): Promise<void> {
    try {
      const kv = await this.bucket();
      const key = finishedKey(accountId, keyId);
      const entry = await kv.get(key);
      if (!entry || entry.operation !== 'PUT') return;
      if (kvDecode<FinishedKey>(entry.value)?.sessionId !== sessionId) return;
      await kv.delete(key, { previousSeq: entry.revision });
    } catch (err) {
      // Changed meanwhile: a newer claim finished, and its entry stays.
      if (isWrongLastSequence(err)) return;
      this.logger.warn({ err }, 'finished Idempotency-Key not forgotten; a retry finds its session gone');
    }
  }

  private options() {
    return {
      ttlMs: this.config.IDEMPOTENCY_RETENTION_MS,
      opTimeoutMs: OP_TIMEOUT_MS,
      noRespondersWithinMs: NO_RESPONDERS_WITHIN_MS,
      // Best effort: full, retries read the store.
      storageShare: 'finishedIdempotencyKeys' as const,
      whenFull: 'refuse' as const,
    };
  }

  private bucket() {
    return this.kv.bucket(FINISHED_IDEMPOTENCY_BUCKET, this.options());
  }
}

/**
 * The account's token and a digest of the key's id: the client's key (up to 255 characters of its
 * choosing, an order number say) is neither in a subject nor limited by what a subject takes.
 */
function finishedKey(accountId: string, keyId: string): string {
  return `${kvToken(accountId)}.${createHash('sha256').update(keyId).digest('base64url')}`;
}
