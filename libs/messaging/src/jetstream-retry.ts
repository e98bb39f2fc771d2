import { ErrorCode as NatsErrorCode } from 'nats';
import type { Logger } from 'pino';
import { isStorageReservationRefused } from './storage-reservation';

/**
 * JetStream answers "no responders" (503) or nothing (TIMEOUT) while a cluster elects its leaders:
 * a node just restarted, the cluster still forming when a service starts. Such a request was not
 * carried out, so asking again is safe for idempotent setup (streams, consumers, buckets).
 */
export function isJetStreamUnavailable(err: unknown): boolean {
  const e = err as { code?: string; api_error?: { code?: number } } | null;
  return e?.code === '503' || e?.code === 'TIMEOUT' || e?.api_error?.code === 503 || isUnavailableForNow(err);
}

/**
 * JetStream's own codes for unavailable for now: "JetStream system temporarily unavailable"
 * (10008), "insufficient resources" while peers rejoin (10023), and "no suitable peers for
 * placement" (10005): a replicated stream or bucket asked for while the cluster's leader does not
 * yet know enough peers (a cluster forming, a node down). Seen in a chaos run: a replica booting a
 * moment after the cluster elected its leader died on it. Not when the peers lack the storage asked
 * for: that does not pass (isStorageReservationRefused).
 */
function isUnavailableForNow(err: unknown): boolean {
  const code = (err as { api_error?: { err_code?: number } } | null)?.api_error?.err_code;
  return code === 10008 || code === 10023 || (code === 10005 && !isStorageReservationRefused(err));
}

/**
 * JetStream with nobody to answer for now (no responders, no answer in time, its own codes for
 * unavailable for now), not one of its answered refusals that carry a 503 too (a bucket full,
 * 10077): asking again later changes nothing for those.
 */
export function isJetStreamDown(err: unknown): boolean {
  if (!isJetStreamUnavailable(err)) return false;
  const code = (err as { api_error?: { err_code?: number } } | null)?.api_error?.err_code;
  return code === undefined || isUnavailableForNow(err);
}

/**
 * JetStream's answers that say a message is too large for the stream, whatever happens to it:
 * "message size exceeds maximum allowed" (10054) and "header size exceeds maximum allowed" (10097).
 */
const TOO_LARGE_FOR_STREAM: ReadonlySet<number> = new Set([10054, 10097]);

/**
 * NATS or JetStream refused a message for good: larger than the server's max_payload (the client
 * refuses to send it) or than the stream takes. Asking again changes nothing. Every other failure,
 * answered or not, may pass (a store failing or closed during a leader change, 10077; a new
 * leader's sequence out of step, 10063; nobody there; no answer in time; the connection lost) and
 * is not read as a refusal.
 */
export function isNatsRefusal(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: unknown } | null } | null;
  if (e?.code === NatsErrorCode.MaxPayloadExceeded) return true;
  const code = e?.api_error?.err_code;
  return typeof code === 'number' && TOO_LARGE_FOR_STREAM.has(code);
}

/** Runs idempotent JetStream setup until it succeeds, retrying while JetStream is unavailable, for at most `withinMs`. */
export async function retryWhileJetStreamUnavailable<T>(
  what: string,
  logger: Logger,
  work: () => Promise<T>,
  withinMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
    try {
      return await work();
    } catch (err) {
      if (!isJetStreamUnavailable(err) || Date.now() + delay > deadline) throw err;
      logger.warn({ err, what, retryInMs: delay }, 'JetStream is not available yet; trying again');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * Nobody served the request: NATS's 503 status, or JetStream's "temporarily unavailable" (10008,
 * while its meta group has no leader). Its other refusals carry 503 too (a bucket full, 10077), with
 * the API's error: those were answered, and asking again changes nothing.
 */
export function isJetStreamNoResponders(err: unknown): boolean {
  const e = err as { code?: string; api_error?: { err_code?: number } } | null;
  return e?.code === '503' && (e.api_error === undefined || e.api_error.err_code === 10008);
}

/** The longest wait between two tries while nobody answers: a leader elected is found soon after. */
const NO_RESPONDERS_MAX_DELAY_MS = 400;

/**
 * Runs `work` again while JetStream answers "no responders" (503), for at most `withinMs` (its last
 * try at the end of it): for a moment while a NATS node is lost and a leader moves, nobody serves
 * the request, and a request that found nobody was not carried out. A timeout is not retried: it
 * may have been.
 */
export async function retryWhileNoResponders<T>(work: () => Promise<T>, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, NO_RESPONDERS_MAX_DELAY_MS)) {
    try {
      return await work();
    } catch (err) {
      const left = deadline - Date.now();
      if (!isJetStreamNoResponders(err) || left <= 0) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
    }
  }
}
