import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { KeyValueStores, SharedSlots } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { WRITE_REQUEST_BUDGET_MS } from '../config/write-call';

/** One KV slot per session being changed by a request (`<account>|<session>`). */
export const SESSION_WRITE_TURN_BUCKET = 'maskline-session-write-turns';
/**
 * A turn whose holder died (a replica killed mid-update) frees itself after this: twice a write
 * request's budget, for a store that answers late. Until then that session's changes answer 409.
 */
const TURN_TTL_MS = 2 * WRITE_REQUEST_BUDGET_MS;
/** How long a change waits for the session's turn: half its budget, the other half for its work. */
const TURN_WAIT_MS = WRITE_REQUEST_BUDGET_MS / 2;

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
 * the whole document back) any two writes could. The turn is the account's: another tenant
 * naming the same session id waits on its own key, never on this one's.
 */
@Injectable()
export class SessionWriteTurns {
  private readonly slots: SharedSlots;

  constructor(kv: KeyValueStores, @Inject(LOGGER) logger: Logger) {
    this.slots = new SharedSlots(kv, {
      bucket: SESSION_WRITE_TURN_BUCKET,
      limit: 1,
      slotTtlMs: TURN_TTL_MS,
      onReleaseError: (err) =>
        logger.warn({ err }, "a session's write turn could not be given back; it frees itself by TTL"),
    });
  }

  /** `change` run in the session's turn; CONFLICT (retryable) when the turn stayed taken past the wait. */
  async during<T>(accountId: string, sessionId: string, change: () => Promise<T>): Promise<T> {
    const run = await this.slots.runWhenFree(`${accountId}|${sessionId}`, change, { withinMs: TURN_WAIT_MS });
    if (run.admitted) return run.value;
    throw new CodedError(
      ErrorCodes.CONFLICT,
      `session ${sessionId} is being changed by another request; try again`,
      { retryable: true },
    );
  }
}
