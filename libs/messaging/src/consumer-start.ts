import type { JetStreamManager } from 'nats';

/**
 * How far back a durable consumer made anew (never made, or its state lost: deleted by hand, a
 * node's storage gone) starts reading: the events published while a deployment's services came up
 * one after the other, not the stream's whole week. Handled again, a week of events would resend
 * texts, callbacks and calls whose records of having been done are long forgotten.
 */
export const NEW_CONSUMER_LOOKBACK_MS = 3_600_000;

/** JetStream's "stream not found" (10059): a bucket not made yet holds nothing. */
const STREAM_NOT_FOUND = 10059;

/**
 * When a consumer made anew starts: NEW_CONSUMER_LOOKBACK_MS ago, or later, at the oldest entry
 * still held by any of `oncePer`, the KV buckets whose entries make its handling happen once (a
 * claim, a ledger). Entries go oldest first (by age or by bound), and an event's entry is written
 * after the event was published, so every event published since then that was handled still has
 * its entry: none is handled twice. An event older than that which was never handled is not
 * delivered (it can no longer be told from one handled and forgotten).
 */
export async function newConsumerStart(
  jsm: JetStreamManager,
  oncePer: readonly string[],
  now = Date.now(),
): Promise<Date> {
  let start = now - NEW_CONSUMER_LOOKBACK_MS;
  for (const bucket of oncePer) {
    const info = await jsm.streams.info(`KV_${bucket}`).catch((err: unknown) => {
      if ((err as { api_error?: { err_code?: number } }).api_error?.err_code === STREAM_NOT_FOUND)
        return null;
      throw err;
    });
    if (info && info.state.messages > 0) start = Math.max(start, Date.parse(info.state.first_ts));
  }
  return new Date(start);
}
