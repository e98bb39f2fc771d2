import { createHash } from 'node:crypto';

/**
 * A callback's event id (`X-Maskline-Event-Id`, the key its delivery is recorded under): a digest
 * of the event's message id, which its publisher repeats whenever it announces the event again.
 * The stream drops a repeat within its duplicate window; past it (an expiry retried after a long
 * store outage) the repeat is another message, with another sequence, and the dispatcher knows it
 * by this id: delivered already, it is not sent again. Its place on the stream only for an event
 * with no message id (none is published without one).
 */
export function callbackEventIdOf(meta: { msgId?: string; streamSequence: number }): string {
  if (!meta.msgId) return `evt-${meta.streamSequence}`;
  return `evt-${createHash('sha256').update(meta.msgId).digest('hex').slice(0, 32)}`;
}
