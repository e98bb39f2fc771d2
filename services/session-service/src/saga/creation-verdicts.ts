import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import {
  KeyValueStores,
  createIfAbsent,
  isStoreFull,
  isWrongLastSequence,
  kvDecode,
  kvEncode,
} from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';

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

/** A creation's room for its verdict, taken before it holds anything (`reserve`). */
export interface VerdictReservation {
  readonly sessionId: string;
  /** The placeholder's revision: the creation's own verdict replaces it (compare-and-set). */
  readonly revision: number;
}

/** The digits of the largest revision a key may be replaced at (a stream sequence, 64 bits). */
const REVISION_DIGITS_MAX = String(2n ** 64n - 1n).length;
/**
 * What a reserved key holds until its verdict is taken. Its record is longer than that of any
 * verdict that replaces it, with the compare-and-set's revision header (up to REVISION_DIGITS_MAX
 * digits, where the placeholder's create says `0`): a bucket full in bytes takes a write in place
 * of an entry only when that write is smaller (nats-server's file store). Full in keys, it takes it
 * whatever its size. (Records measured with nats-server 2.10.27: 164 bytes a placeholder, 144 plus
 * the revision's digits a verdict.)
 */
const UNDECIDED = 'undecided'.padEnd(
  Math.max(...(['announced', 'failed'] satisfies CreationVerdict[]).map((v) => v.length)) +
    REVISION_DIGITS_MAX,
  '.',
);
const UNDECIDED_VALUE = kvEncode(UNDECIDED);

/**
 * Whether a stored session is a created one, decided once in NATS KV by compare-and-set: the
 * creation takes `announced` before it announces, the orphan reaper takes `failed` before it ends
 * a session stored and never announced. Whichever comes first decides for both, so a creation still
 * running when the reaper finds its steps never answers with a session the reaper then ends, and
 * the reaper never ends one its owner was given.
 *
 * A creation reserves its key (`reserve`) before it holds anything: a bucket at its bound refuses
 * the reservation, and the creation fails with nothing to give back, while every session already
 * stored has its key, which its verdict replaces in place (a full bucket takes that). Without the
 * reservation, a full bucket refused the verdicts of stored sessions, the reaper's as well as the
 * creation's, and those sessions kept their numbers and their place in the account's quota until
 * they ended at their own time (up to 90 days). Costs two KV writes per creation, the same at any
 * size; a creation that fails before storing its session gives its key back (`withdraw`).
 */
@Injectable()
export class CreationVerdicts {
  constructor(
    private readonly kv: KeyValueStores,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    // Full, it refuses new keys (creations fail, retryable, until verdicts age out): dropping a
    // verdict would undo it.
    kv.declare(CREATION_VERDICT_BUCKET, {
      ttlMs: VERDICT_TTL_MS,
      storageShare: 'creationVerdicts',
      whenFull: 'refuse',
    });
  }

  /**
   * Room for the verdict on the session a creation is about to make. Refused (the bucket at its
   * bound, or NATS away), the creation must not go on: it would store a session nobody could decide.
   */
  async reserve(sessionId: string): Promise<VerdictReservation> {
    try {
      const kv = await this.kv.bucket(CREATION_VERDICT_BUCKET);
      return { sessionId, revision: await kv.create(sessionId, UNDECIDED_VALUE) };
    } catch (err) {
      if (isStoreFull(err)) {
        this.logger.warn(
          { bucket: CREATION_VERDICT_BUCKET },
          'creation verdict memory full: creations are refused until verdicts age out (raise NATS_MEMORY_BYTES or NATS_STORAGE_BYTES)',
        );
      }
      throw new CodedError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the session could not be created; try again', {
        retryable: true,
        cause: err,
      });
    }
  }

  /**
   * Gives back a reservation whose session will never be stored (its creation failed before, or its
   * write was fenced): its key no longer counts against the bucket's bound. Best effort: kept, it
   * ages out with the others.
   */
  async withdraw(reservation: VerdictReservation): Promise<void> {
    await this.kv
      .forgetRevision(CREATION_VERDICT_BUCKET, reservation.revision)
      .catch((err: unknown) =>
        this.logger.warn(
          { err, sessionId: reservation.sessionId },
          'a failed creation’s verdict key not given back; it ages out',
        ),
      );
  }

  /**
   * The verdict on the session's creation: `wanted`, unless the other was taken first. `taken`: this
   * call took it (nobody had asked before). `reservation`: the creation's own, whose placeholder it
   * replaces; the reaper and a replay under the key read what the key holds first. Throws, retryable,
   * when the bucket did not answer: the verdict may then have been taken by this call or not.
   */
  async decide(
    sessionId: string,
    wanted: CreationVerdict,
    reservation?: VerdictReservation,
  ): Promise<{ verdict: CreationVerdict; taken: boolean }> {
    const kv = await this.kv.bucket(CREATION_VERDICT_BUCKET);
    let revision = reservation?.revision;
    // A lost compare-and-set means the other side took it: the next look reads what it took.
    for (let look = 0; look < 3; look++) {
      if (revision === undefined) {
        // As the bucket's leader holds it (a replica may not have it yet).
        const entry = await this.kv.leaderEntry(CREATION_VERDICT_BUCKET, sessionId);
        const held = entry?.operation === 'PUT' ? kvDecode<string>(entry.value) : null;
        if (held === 'announced' || held === 'failed') return { verdict: held, taken: false };
        if (entry === null) {
          // Never reserved (an earlier release's creation, or a placeholder aged out).
          if (await createIfAbsent(kv, sessionId, kvEncode(wanted))) return { verdict: wanted, taken: true };
          continue;
        }
        if (held !== UNDECIDED) break;
        revision = entry.revision;
      }
      try {
        await kv.update(sessionId, kvEncode(wanted), revision);
        return { verdict: wanted, taken: true };
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
        revision = undefined;
      }
    }
    throw new CodedError(ErrorCodes.RPC_UNAVAILABLE, 'the creation verdict could not be read', {
      retryable: true,
    });
  }
}
