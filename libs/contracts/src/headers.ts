/** Carries the correlation id from the gateway through every NATS hop (HTTP and NATS use the same name). */
export const CORRELATION_ID_HEADER = 'X-Request-Id';
/** The service that sent a NATS message, for logs. */
export const SENDER_HEADER = 'Maskline-Sender';
