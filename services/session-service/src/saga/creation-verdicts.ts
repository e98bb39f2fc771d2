import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { KeyValueStores, createIfAbsent, isStoreFull, kvDecode, kvEncode } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';

/** One key per creation that stored its session: whether it goes on to announce it, or failed. */
export const CREATION_VERDICT_BUCKET = 'maskline-creation-verdicts';
/**
 * A verdict matters while a creation or a retry of it may still run, and while the orphan reaper
 * may find its saga steps (seconds, or the length of a store outage). Past `verdictKnown` neither
 * asks, and the session stays as it is. The bucket holds the last two hours' creations, a key and a
 * word each.
 */
export const VERDICT_TTL_MS = 2 * 3_600_000;
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
 * One key per creation under way or done, taken before it holds anything: what admits creations
 * while there is room for their verdicts (`CreationVerdicts.reserve`).
 */
export const CREATION_RESERVATION_BUCKET = 'maskline-creation-reservations';

/** A creation's room for its verdict (`reserve`). */
export interface VerdictReservation {
  readonly sessionId: string;
  /** Its entry's revision: what `withdraw` removes. */
  readonly revision: number;
}

const RESERVED = new Uint8Array([1]);
/** How often a full reservation bucket is said in the log, at most (each refused creation is counted). */
const FULL_LOGGED_EVERY_MS = 60_000;

/**
 * Whether a stored session is a created one, decided once in NATS KV by an atomic create: the
 * creation takes `announced` before it announces, the orphan reaper takes `failed` before it ends
 * a session stored and never announced. Whichever comes first decides for both, so a creation still
 * running when the reaper finds its steps never answers with a session the reaper then ends, and
 * the reaper never ends one its owner was given.
 *
 * The verdicts' bucket refuses when full (forgetting a verdict would undo it), and a refused verdict
 * left a stored session nobody could decide: it kept its number and its place in the account's
 * quota until it ended at its own time (up to 90 days). So a creation first reserves a key in a
 * second bucket (`reserve`), before it holds anything: that one, full, refuses the creation with
 * nothing to give back. The verdicts' bucket holds twice what the reservations' does
 * (`NATS_MEMORY_SHARES`, `NATS_STORAGE_SHARES`), which is more than it is ever asked to: a verdict is
 * taken only on a session stored under a reservation, within `verdictKnown` of it; such
 * reservations live their two hours in their bucket, so any two hours admit at most a bucketful,
 * and the verdicts alive at once (two hours of them) belong to reservations of the last 3 h 50 min,
 * two bucketfuls at most. No write ever depends on what NATS does at a full bucket. Costs two KV
 * writes per creation, the same at any size; a creation that fails before storing its session
 * gives its reservation back (`withdraw`).
 */
@Injectable()
export class CreationVerdicts {
  private fullLoggedAt = 0;

  constructor(
    private readonly kv: KeyValueStores,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    kv.declare(CREATION_RESERVATION_BUCKET, {
      ttlMs: VERDICT_TTL_MS,
      storageShare: 'creationReservations',
      whenFull: 'refuse',
    });
    // Full, it would refuse verdicts: never, as it holds twice what the reservations admit.
    kv.declare(CREATION_VERDICT_BUCKET, {
      ttlMs: VERDICT_TTL_MS,
      storageShare: 'creationVerdicts',
      whenFull: 'refuse',
    });
  }

  /**
   * Room for the verdict on the session a creation is about to make. Refused (the reservations at
   * their bound, or NATS away), the creation must not go on: its verdict might find no room.
   */
  async reserve(sessionId: string): Promise<VerdictReservation> {
    try {
      const kv = await this.kv.bucket(CREATION_RESERVATION_BUCKET);
      return { sessionId, revision: await kv.create(sessionId, RESERVED) };
    } catch (err) {
      if (isStoreFull(err) && Date.now() - this.fullLoggedAt >= FULL_LOGGED_EVERY_MS) {
        this.fullLoggedAt = Date.now();
        this.logger.warn(
          { bucket: CREATION_RESERVATION_BUCKET },
          'room for creation verdicts full: creations are refused until reservations age out (raise NATS_MEMORY_BYTES or NATS_STORAGE_BYTES)',
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
   * write was fenced): it no longer takes room. Best effort: kept, it ages out with the others.
   */
  async withdraw(reservation: VerdictReservation): Promise<void> {
    await this.kv
      .forgetRevision(CREATION_RESERVATION_BUCKET, reservation.revision)
      .catch((err: unknown) =>
        this.logger.warn(
          { err, sessionId: reservation.sessionId },
          'a failed creation’s reservation not given back; it ages out',
        ),
      );
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
