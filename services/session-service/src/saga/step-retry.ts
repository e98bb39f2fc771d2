import { CodedError, ErrorCodes, mayHaveHappened } from '@maskline/contracts';

/**
 * What a step's service answers at once when what it stands on is away for a moment (JetStream
 * electing a stream leader after a NATS node was lost: "unavailable" within about 2 s), or what the
 * saga sees when nobody listens for a moment (a replica's subscription moving).
 */
const MOMENTARY = new Set<string>([ErrorCodes.DEPENDENCY_UNAVAILABLE, ErrorCodes.RPC_UNAVAILABLE]);

/** The pause before each further attempt: an election is usually over within a second or two. */
export const STEP_RETRY_PAUSES_MS: readonly number[] = [400, 800];

/**
 * A step is asked again only while the creation is younger than this: the attempt may take its own
 * 5 s (WRITE_CALL), and the gateway waits 10 s for the whole creation, the store write and the
 * announcement after it included.
 */
export const STEP_RETRY_WITHIN_MS = 3000;

/**
 * Runs a saga step, asking again after a pause when it failed in a way that passes (MOMENTARY),
 * while the creation (started at `startedAt`) is young enough. Only for steps that are idempotent
 * by their ids (an allocation by its id, a session's PINs by its session id): an attempt that was
 * carried out after all is answered again, not made twice. If one attempt may have happened and a
 * later one says nothing happened (nobody listened), the first's error is thrown: the caller gives
 * back what may be held.
 */
export async function withStepRetry<T>(
  step: () => Promise<T>,
  startedAt: number,
  clock: () => number = Date.now,
  pause: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<T> {
  let mayHave: unknown;
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (mayHaveHappened(err)) mayHave ??= err;
      const wait = STEP_RETRY_PAUSES_MS[attempt];
      const passes = err instanceof CodedError && MOMENTARY.has(err.code);
      if (!passes || wait === undefined || clock() + wait - startedAt > STEP_RETRY_WITHIN_MS) {
        throw mayHaveHappened(err) ? err : (mayHave ?? err);
      }
      await pause(wait);
    }
  }
}
