import { randomBytes } from 'node:crypto';

/**
 * How far apart the clocks of the processes that time a session's records may be (the replica that
 * made it, the one that ended it, the routers that timed its calls).
 */
export const CLOCK_SKEW_MS = 3_600_000;

/**
 * A new session's id: a UUID of version 7, whose first 48 bits are the time it was made (ms since
 * the epoch) and whose other 74 are random. The history is kept one collection per day, so a read of
 * an ended session's records starts at the day it began (`sessionRecordsFrom`) instead of reading
 * every day kept. The time is its creation's start: at most the saga's length before the `createdTime` its
 * owner sees.
 */
export function newSessionId(now: number = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(Math.max(0, Math.floor(now)) % 2 ** 48, 0, 6);
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** When the session was made, by its id (`newSessionId`); null for an id made otherwise (an earlier version's random UUID). */
export function sessionIdTime(sessionId: string): Date | null {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.exec(sessionId);
  return m ? new Date(parseInt(`${m[1]}${m[2]}`, 16)) : null;
}

/**
 * The earliest time any record of the session may carry (its id's time less CLOCK_SKEW_MS), or
 * undefined when its id does not say (every day kept may hold its records). An id a caller made up
 * only narrows or widens the caller's own search.
 */
export function sessionRecordsFrom(sessionId: string): Date | undefined {
  const made = sessionIdTime(sessionId);
  return made ? new Date(made.getTime() - CLOCK_SKEW_MS) : undefined;
}
