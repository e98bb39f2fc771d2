import { Injectable } from '@nestjs/common';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { KeyValueStores, createIfAbsent, kvDecode, kvEncode } from '@maskline/messaging';

/** One key per creation that stored its session: whether it goes on to announce it, or failed. */
export const CREATION_VERDICT_BUCKET = 'maskline-creation-verdicts';
/**
 * A verdict matters while a creation or a retry of it may still run, and while the orphan reaper
 * may find its saga steps (seconds, or the length of a store outage). Past `verdictKnown` neither
 * asks, and the session stays as it is. The bucket holds the last two hours' creations, a key and a
 * word each.
 */
const VERDICT_TTL_MS = 2 * 3_600_000;
/** Of a verdict's lifetime, what is not counted on: clocks a little apart, a reaper's pass. */
const VERDICT_MARGIN_MS = 10 * 60_000;

/** Whether the verdict on a creation that began at `began` is still kept, for sure. */
export function verdictKnown(began: Date, now = Date.now()): boolean {
  return now - began.getTime() < VERDICT_TTL_MS - VERDICT_MARGIN_MS;
}

/**
 * `announced`: the creation (or a retry under its Idempotency-Key) announces the session; it lives.
 * `failed`: the orphan reaper found it stored and unannounced, its creation over with an error
 * answered; it is ended.
 */
export type CreationVerdict = 'announced' | 'failed';

/**
 * Whether a stored session is a created one, decided once in NATS KV by an atomic create: the
 * creation takes `announced` before it announces, the orphan reaper takes `failed` before it ends
 * a session stored and never announced. Whichever comes first decides for both, so a creation still
 * running when the reaper finds its steps never answers with a session the reaper then ends, and
 * the reaper never ends one its owner was given. Costs one KV create per creation, the same at any
 * size.
 */
@Injectable()
export class CreationVerdicts {
  constructor(private readonly kv: KeyValueStores) {
    // Full, it refuses (creations fail, retryable, until verdicts age out): dropping a verdict
    // would undo it.
    kv.declare(CREATION_VERDICT_BUCKET, {
      ttlMs: VERDICT_TTL_MS,
      storageShare: 'creationVerdicts',
      whenFull: 'refuse',
    });
  }

  /**
   * The verdict on the session's creation: `wanted`, unless the other was taken first. `taken`: this
   * call took it (nobody had asked before). Throws, retryable, when the bucket did not answer: the
   * verdict may then have been taken by this call or not.
   */
  async decide(
    sessionId: string,
    wanted: CreationVerdict,
  ): Promise<{ verdict: CreationVerdict; taken: boolean }> {
    const kv = await this.kv.bucket(CREATION_VERDICT_BUCKET);
    if (await createIfAbsent(kv, sessionId, kvEncode(wanted))) return { verdict: wanted, taken: true };
    // Taken first: as the bucket's leader holds it (a replica may not have it yet).
    const entry = await this.kv.leaderEntry(CREATION_VERDICT_BUCKET, sessionId);
    const held = entry?.operation === 'PUT' ? kvDecode<CreationVerdict>(entry.value) : null;
    if (held === 'announced' || held === 'failed') return { verdict: held, taken: false };
    throw new CodedError(ErrorCodes.RPC_UNAVAILABLE, 'the creation verdict could not be read', {
      retryable: true,
    });
  }
}
