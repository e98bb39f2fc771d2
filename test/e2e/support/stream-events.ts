import type { NatsConnection } from 'nats';
import {
  EVENT_EXTENSION_HEADER,
  STREAMS,
  eventFromWire,
  type EventContract,
  type EventPayloadOf,
} from '@maskline/contracts';
import { decodeJson } from '@maskline/messaging';

/** JetStream's "no message found": a message deleted from the stream leaves a gap in its sequence. */
const NO_MESSAGE = 10037;

/** Every event of this contract on the events stream so far, in stream order. */
export async function eventsOn<C extends EventContract>(
  nc: NatsConnection,
  event: C,
): Promise<Array<EventPayloadOf<C>>> {
  const jsm = await nc.jetstreamManager();
  const stream = STREAMS.MASKLINE_EVENTS.name;
  const info = await jsm.streams.info(stream);
  const out: Array<EventPayloadOf<C>> = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    try {
      const m = await jsm.streams.getMessage(stream, { seq });
      if (m.subject !== event.subject) continue;
      const extension = m.header?.get(EVENT_EXTENSION_HEADER) || undefined;
      out.push(eventFromWire(decodeJson(m.data), extension) as EventPayloadOf<C>);
    } catch (err) {
      if ((err as { api_error?: { err_code?: number } }).api_error?.err_code !== NO_MESSAGE) throw err;
    }
  }
  return out;
}

/**
 * Whether a durable consumer has acknowledged every event published so far (nothing pending,
 * nothing awaiting an ack): after this, none of those events will be handled again.
 */
export async function consumerCaughtUp(nc: NatsConnection, durable: string): Promise<boolean> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.consumers.info(STREAMS.MASKLINE_EVENTS.name, durable);
  return info.num_pending === 0 && info.num_ack_pending === 0;
}
