import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { KeyValueStores, SharedSlots } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { WRITE_REQUEST_BUDGET_MS } from '../config/write-call';

/** One KV slot per session being changed by a request (`<account>|<session>`). */
export const SESSION_WRITE_TURN_BUCKET = 'maskline-session-write-turns';
/**
 * A turn whose holder died (a replica killed mid-change) frees itself after this; until then that
 * session's changes answer 409. Far longer than a change holds it (an update's budget is
 * WRITE_REQUEST_BUDGET_MS; a Participant's add or a DELETE waits on number-pool and pin-auth for up
 * to WRITE_CALL each), since a turn that lapsed under a live holder would let a second writer in.
 */
const TURN_TTL_MS = 60_000;
/** How long a request's change waits for the session's turn: half its budget, the other half for its work. */
export const REQUEST_TURN_WAIT_MS = WRITE_REQUEST_BUDGET_MS / 2;
/** One KV read or write of a turn: well inside the wait, so a NATS node being replaced fails it in time. */
const TURN_KV_OP_MS = 2000;

/**
 * When a change made in the session's turn happened: now, or just after the change before it if
 * this replica's clock is behind that one's. Readers keep the latest view of a session by it.
 */
export function changeTime(before: { modifiedAt: Date }, nowMs = Date.now()): Date {
  return new Date(Math.max(nowMs, before.modifiedAt.getTime() + 1));
}

/**
 * Changes to one session by requests (an update, a DELETE), one at a time across every replica:
 * each reads the session as the one before it left it, and its write and announcement come after
 * that one's. Without it two updates at once each wrote the settings they had read, so the later
 * write undid the other's change while both answered 200, and on FerretDB v1 (whose updates write
 * the whole document back) any two writes could. The turn is the main account's: another main
 * account naming the same session id waits on its own key, never on this one's (a subaccount
 * shares its main account's).
 *
 * A request asks for the turn only once it has found the session to be its own (read outside the
 * turn, and again inside it): a subaccount's request naming a sibling's session would otherwise
 * wait for the owner's turn, hold up the owner's changes while it held it, and learn from a 409
 * ("being changed") that the session exists, where its own 404 says nothing.
 */
@Injectable()
export class SessionWriteTurns {
  private readonly slots: SharedSlots;

  constructor(kv: KeyValueStores, @Inject(LOGGER) logger: Logger) {
    this.slots = new SharedSlots(kv, {
      bucket: SESSION_WRITE_TURN_BUCKET,
      limit: 1,
      slotTtlMs: TURN_TTL_MS,
      opTimeoutMs: TURN_KV_OP_MS,
      onReleaseError: (err) =>
        logger.warn({ err }, "a session's write turn could not be given back; it frees itself by TTL"),
    });
  }

  /**
   * `change` run in the session's turn; CONFLICT (retryable) when the turn stayed taken past
   * `withinMs`. Fails as NATS KV does: without KV no session changes.
   */
  async during<T>(
    accountId: string,
    sessionId: string,
    change: () => Promise<T>,
    withinMs = REQUEST_TURN_WAIT_MS,
  ): Promise<T> {
    const run = await this.slots.runWhenFree(`${accountId}|${sessionId}`, change, { withinMs });
    if (run.admitted) return run.value;
    throw new CodedError(
      ErrorCodes.CONFLICT,
      `session ${sessionId} is being changed by another request; try again`,
      { retryable: true },
    );
  }
}
