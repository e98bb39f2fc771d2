import { headers as natsHeaders, type MsgHdrs } from 'nats';
import { CORRELATION_ID_HEADER, SENDER_HEADER } from '@maskline/contracts';
import { acceptOrCreateCorrelationId, currentCorrelationId } from '@maskline/observability';

/** Headers for an outgoing message: the current correlation id (or a new one) and the sender. */
export function outgoingHeaders(sender: string): MsgHdrs {
  const h = natsHeaders();
  h.set(CORRELATION_ID_HEADER, currentCorrelationId() ?? acceptOrCreateCorrelationId(undefined));
  h.set(SENDER_HEADER, sender);
  return h;
}

export function incomingCorrelationId(h: MsgHdrs | undefined): string {
  return acceptOrCreateCorrelationId(h?.get(CORRELATION_ID_HEADER));
}
